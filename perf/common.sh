# Shared by perf/compare.sh and perf/amqp-vs-mqtt.sh (sourced, not run): settings, paths, the Release build, and one
# bounded generator run per scenario with its RESULT line kept as JSON. The sourcing script sets SCRIPT and TMP.
# Settings (environment): DURATION (s, default 20), WARMUP (s, default 5), DEVICES (100), PAYLOAD (1024), WINDOW (10).

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
DEVICES=${DEVICES:-100}
PAYLOAD=${PAYLOAD:-1024}
WINDOW=${WINDOW:-10}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BROKER=$ROOT/src/Broker.Host/bin/Release/net10.0/broker
LOAD=$ROOT/perf/Broker.LoadGenerator/bin/Release/net10.0/broker-load
# One generator run: connect + warm-up + window + drain/disconnect, with a generous but finite margin.
RUN_TIMEOUT=$((WARMUP + DURATION + 180))
COMMON=(--devices "$DEVICES" --payload "$PAYLOAD" --duration "$DURATION" --warmup "$WARMUP")

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

require_jq() { command -v jq >/dev/null || die "jq is needed to read the RESULT lines (apt-get install -y jq)"; }

build_release() {
    say "building Release"
    timeout 900 dotnet build "$ROOT/src/Broker.Host/Broker.Host.csproj" -c Release -nologo -v q >/dev/null || die "building the broker failed"
    timeout 900 dotnet build "$ROOT/perf/Broker.LoadGenerator/Broker.LoadGenerator.csproj" -c Release -nologo -v q >/dev/null || die "building broker-load failed"
}

require_free_ports() { # settings-hint port...
    local hint=$1; shift
    for port in "$@"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is already in use; set $hint"; fi
    done
}

stop_process() { # pid: SIGTERM, a bounded wait for a clean exit (our broker takes a final checkpoint), then SIGKILL
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    timeout 30 tail --pid="$1" -f /dev/null 2>/dev/null || kill -KILL "$1" 2>/dev/null || true
}

generate() { # label generator-args...: prints the table, keeps the RESULT json in $TMP/<label>.json
    local label=$1; shift
    timeout "$RUN_TIMEOUT" "$LOAD" "$@" >"$TMP/$label.out" 2>"$TMP/$label.err" \
        || { cat "$TMP/$label.err" >&2; die "$label failed (exit $?)"; }
    grep -v '^RESULT ' "$TMP/$label.out"
    grep '^RESULT ' "$TMP/$label.out" | sed 's/^RESULT //' >"$TMP/$label.json"
}

field() { jq -r ".$2" "$TMP/$1.json"; }
ratio() { jq -rn --argjson a "$1" --argjson b "$2" 'if $b == 0 then "n/a" else ($a / $b * 100 | round / 100 | tostring) end'; }
