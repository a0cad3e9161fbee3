#!/usr/bin/env bash
# Runs the same telemetry scenarios over AMQP and over MQTT against one instance of our broker, in one run, on
# loopback, and prints both results and the ratios AMQP/MQTT (mosquitto has no AMQP, so this is the comparison).
# Every step is bounded; the broker stops on exit.
#
# Settings (environment): DURATION (s, default 20), WARMUP (s, default 5), DEVICES (100), PAYLOAD (1024),
# WINDOW (10), MQTT_PORT (28850), AMQP_PORT (28851), MGMT_PORT (28852), KEEP=1 keeps the temp dir.
set -euo pipefail

SCRIPT=amqp-vs-mqtt.sh
source "$(dirname "$0")/common.sh"
MQTT_PORT=${MQTT_PORT:-28850}
AMQP_PORT=${AMQP_PORT:-28851}
MGMT_PORT=${MGMT_PORT:-28852}

require_jq
build_release
require_free_ports MQTT_PORT/AMQP_PORT/MGMT_PORT "$MQTT_PORT" "$AMQP_PORT" "$MGMT_PORT"

TMP=$(mktemp -d /tmp/broker-amqp-vs-mqtt.XXXXXX)
BROKER_PID=""
cleanup() {
    stop_process "$BROKER_PID"
    if [ "${KEEP:-0}" = 1 ]; then echo "logs and data kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting our broker: MQTT 127.0.0.1:$MQTT_PORT, AMQP 127.0.0.1:$AMQP_PORT (plain), management $MGMT_PORT"
"$BROKER" serve --data "$TMP/ours" --bind 127.0.0.1 --mqtt-port "$MQTT_PORT" --mqtts-port 0 --amqp-port "$AMQP_PORT" --amqps-port 0 \
    --https-port 0 --management-port "$MGMT_PORT" >"$TMP/broker.log" 2>&1 &
BROKER_PID=$!
# Bounded wait for the log line of the last listener to open (no polling of the ports).
timeout 60 grep -q -m1 "Management listening on" <(tail -n +1 --pid="$BROKER_PID" -f "$TMP/broker.log") \
    || die "the broker did not start within 60 s (log: $TMP/broker.log)"
grep -q "Amqp listening on" "$TMP/broker.log" || die "the broker opened no AMQP listener (log: $TMP/broker.log)"

TARGET=(--server "http://127.0.0.1:$MGMT_PORT" --data "$TMP/ours" --create-devices --broker-pid "$BROKER_PID")
run() { # label protocol scenario-args...
    local label=$1 protocol=$2; shift 2
    local port=$MQTT_PORT
    [ "$protocol" = amqp ] && port=$AMQP_PORT
    generate "$label" --protocol "$protocol" --port "$port" --label "$label" "${TARGET[@]}" "${COMMON[@]}" "$@"
}

say "uptime before: $(uptime)"

say "scenario 1: $DEVICES devices x $PAYLOAD B, unsettled / QoS 1, flat out, window $WINDOW"
run amqp-q1 amqp --qos 1 --window "$WINDOW"
run mqtt-q1 mqtt --qos 1 --window "$WINDOW"

say "scenario 2: $DEVICES devices x $PAYLOAD B, pre-settled / QoS 0, flat out"
run amqp-q0 amqp --qos 0
run mqtt-q0 mqtt --qos 0

AMQP_HALF=$(jq -r '.msgsPerSecond / 2 | floor' "$TMP/amqp-q1.json")
MQTT_HALF=$(jq -r '.msgsPerSecond / 2 | floor' "$TMP/mqtt-q1.json")
say "scenario 3: half load, unsettled / QoS 1, window $WINDOW: AMQP at $AMQP_HALF msg/s, MQTT at $MQTT_HALF msg/s (half of each one's scenario-1 rate)"
run amqp-half amqp --qos 1 --window "$WINDOW" --rate "$AMQP_HALF"
run mqtt-half mqtt --qos 1 --window "$WINDOW" --rate "$MQTT_HALF"

SAME=$(( AMQP_HALF < MQTT_HALF ? AMQP_HALF : MQTT_HALF ))
say "scenario 4: both at the same rate, $SAME msg/s (the lower of the two half loads), unsettled / QoS 1, window $WINDOW"
run amqp-same amqp --qos 1 --window "$WINDOW" --rate "$SAME"
run mqtt-same mqtt --qos 1 --window "$WINDOW" --rate "$SAME"

say "uptime after: $(uptime)"

say "summary (ratio = AMQP / MQTT; for latency lower is better)"
printf '%-24s %14s %14s %8s\n' "metric" "AMQP" "MQTT" "ratio"
line() { printf '%-24s %14s %14s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
line "unsettled msg/s"        "$(field amqp-q1 msgsPerSecond)"     "$(field mqtt-q1 msgsPerSecond)"
line "unsettled p50 ms"       "$(field amqp-q1 p50Ms)"             "$(field mqtt-q1 p50Ms)"
line "unsettled p99 ms"       "$(field amqp-q1 p99Ms)"             "$(field mqtt-q1 p99Ms)"
line "unsettled p99.9 ms"     "$(field amqp-q1 p999Ms)"            "$(field mqtt-q1 p999Ms)"
line "unsettled broker CPU %" "$(field amqp-q1 brokerCpuPercent)"  "$(field mqtt-q1 brokerCpuPercent)"
line "pre-settled msg/s"      "$(field amqp-q0 msgsPerSecond)"     "$(field mqtt-q0 msgsPerSecond)"
line "half-load msg/s"        "$(field amqp-half msgsPerSecond)"   "$(field mqtt-half msgsPerSecond)"
line "half-load p50 ms"       "$(field amqp-half p50Ms)"           "$(field mqtt-half p50Ms)"
line "half-load p99 ms"       "$(field amqp-half p99Ms)"           "$(field mqtt-half p99Ms)"
line "half-load p99.9 ms"     "$(field amqp-half p999Ms)"          "$(field mqtt-half p999Ms)"
line "half-load broker CPU %" "$(field amqp-half brokerCpuPercent)" "$(field mqtt-half brokerCpuPercent)"
line "same-rate msg/s"        "$(field amqp-same msgsPerSecond)"   "$(field mqtt-same msgsPerSecond)"
line "same-rate p50 ms"       "$(field amqp-same p50Ms)"           "$(field mqtt-same p50Ms)"
line "same-rate p99 ms"       "$(field amqp-same p99Ms)"           "$(field mqtt-same p99Ms)"
line "same-rate p99.9 ms"     "$(field amqp-same p999Ms)"          "$(field mqtt-same p999Ms)"
line "same-rate broker CPU %" "$(field amqp-same brokerCpuPercent)" "$(field mqtt-same brokerCpuPercent)"
line "connects/s"             "$(field amqp-q1 connectsPerSecond)" "$(field mqtt-q1 connectsPerSecond)"
echo
echo "RESULTS $(jq -cs '.' "$TMP"/amqp-q1.json "$TMP"/mqtt-q1.json "$TMP"/amqp-q0.json "$TMP"/mqtt-q0.json "$TMP"/amqp-half.json "$TMP"/mqtt-half.json "$TMP"/amqp-same.json "$TMP"/mqtt-same.json)"
