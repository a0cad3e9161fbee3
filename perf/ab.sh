#!/usr/bin/env bash
# One A/B round against OUR broker only (no mosquitto): starts the broker built in ROOT on loopback, runs QoS 1 flat
# out, then paced at HALF msg/s (default: half of that flat-out rate), then paced at 20,000 msg/s, and prints one JSON
# line per run (msg/s, p50/p99/p99.9 ms, broker/generator/machine CPU %) with the load average before it.
# Interleave two trees to compare them under the same machine conditions, e.g.:
#   for i in 1 2; do perf/ab.sh before /tmp/base; perf/ab.sh after .; done
# Each tree needs `dotnet build src/Broker.Host -c Release` and `dotnet build perf/Broker.LoadGenerator -c Release`.
# Settings (environment): HALF, DURATION (10), WARMUP (3), PORT (28930), MGMT (28181), BROKER_ENV (extra environment
# for the broker, e.g. DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0).
set -euo pipefail
LABEL=$1; ROOT=$(cd "$2" && pwd); DURATION=${DURATION:-10}; WARMUP=${WARMUP:-3}
PORT=${PORT:-28930}; MGMT=${MGMT:-28181}
BROKER=$ROOT/src/Broker.Host/bin/Release/net10.0/broker
LOAD=$ROOT/perf/Broker.LoadGenerator/bin/Release/net10.0/broker-load
command -v jq >/dev/null || { echo "ab.sh: jq is needed" >&2; exit 2; }
TMP=$(mktemp -d /tmp/broker-ab.XXXXXX)
env ${BROKER_ENV:-BROKER_AB=1} "$BROKER" serve --data "$TMP/data" --bind 127.0.0.1 --mqtt-port "$PORT" --mqtts-port 0 \
    --amqp-port 0 --amqps-port 0 --https-port 0 --management-port "$MGMT" >"$TMP/broker.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
for port in "$MGMT" "$PORT"; do
    for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.25; done
done
run() { # name generator-args...
    local name=$1; shift
    echo "uptime before $LABEL $name: $(uptime)"
    timeout 300 "$LOAD" --port "$PORT" --server "http://127.0.0.1:$MGMT" --data "$TMP/data" --create-devices --broker-pid "$PID" \
        --label "$LABEL-$name" --duration "$DURATION" --warmup "$WARMUP" "$@" >"$TMP/$name.out" 2>&1
    grep '^RESULT' "$TMP/$name.out" | sed 's/^RESULT //' | jq -c '{l: .label, rate: .targetRate, mps: .msgsPerSecond,
        p50: .p50Ms, p99: .p99Ms, p999: .p999Ms, broker: .brokerCpuPercent, gen: .generatorCpuPercent, machine: .machineCpuPercent}'
}
run flat --qos 1 --window 10
FLAT_HALF=$(grep '^RESULT' "$TMP/flat.out" | sed 's/^RESULT //' | jq -r '.msgsPerSecond / 2 | floor')
run half --qos 1 --window 10 --rate "${HALF:-$FLAT_HALF}"
run r20k --qos 1 --window 10 --rate 20000
