#!/usr/bin/env bash
# A two-node Ray cluster on loopback (head 127.0.0.2, worker 127.0.0.3) for the tests and benchmarks
# of `compute: azureml:<ray cluster>` (docs/guides/ray.md). Needs root (unshare, nsenter, setns).
#
#   ray_cluster.sh start  STATE_DIR   # idempotent; prints the dashboard URL
#   ray_cluster.sh stop   STATE_DIR   # SIGTERM, then SIGKILL after $STOP_GRACE_S, by PID (never `ray stop`)
#   ray_cluster.sh status STATE_DIR
#   ray_cluster.sh exec   STATE_DIR CMD...   # run CMD inside the cluster's network namespace
#
# Why a network namespace: Ray's gRPC servers (GCS, raylet node/object manager, worker ports,
# dashboard-agent gRPC) and its Prometheus exporters bind 0.0.0.0 / [::] whenever the node IP is not
# literally 127.0.0.1 (which Ray replaces with the machine's outward address), and no flag changes
# that. So both nodes run in a private namespace that only has `lo`: "all interfaces" there means
# loopback only. scripts/nsbridge.py publishes the dashboard (the Jobs REST API) on the host at
# http://$BRIDGE_HOST:$BRIDGE_PORT, and makes each host service in $FORWARD_IN (e.g. Azurite,
# 127.0.0.1:10000) reachable inside the namespace at the same address. The Docker engine is reached
# through its unix socket, and containers with network_mode host run in the host's namespace.
# Measured facts behind every choice: docs/guides/ray.md ("The test cluster").
#
# Env: RAY (the ray executable; default $RUNNER_CACHE_DIR/ray-venv/bin/ray, made by provision.sh; its
#      folder goes first on PATH, so the nodes' `python` is that venv's), PYTHON (for the bridge),
#      HEAD_IP, WORKER_IP, DASHBOARD_PORT, GCS_PORT, BRIDGE_HOST/BRIDGE_PORT (the dashboard on the host;
#      default HEAD_IP:DASHBOARD_PORT), FORWARD_IN ("127.0.0.1:10000 ..."), HEAD_EXTRA / WORKER_EXTRA
#      (extra `ray start` args), WORKER_RESOURCES (JSON, default {"worker_tag": 1}), BRIDGE=0 to skip
#      the bridge, STOP_GRACE_S, START_TIMEOUT_S, OBJECT_STORE_BYTES. The rest of the environment is
#      inherited by every Ray process.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_DIR=${RUNNER_CACHE_DIR:-$HOME/.cache/runner}
RAY=${RAY:-$CACHE_DIR/ray-venv/bin/ray}
[ -x "$RAY" ] || RAY=$(command -v ray || echo "$RAY")
export PATH="$(dirname "$RAY"):$PATH"
PYTHON=${PYTHON:-python3}
HEAD_IP=${HEAD_IP:-127.0.0.2}
WORKER_IP=${WORKER_IP:-127.0.0.3}
GCS_PORT=${GCS_PORT:-6379}
DASHBOARD_PORT=${DASHBOARD_PORT:-8265}
WORKER_RESOURCES=${WORKER_RESOURCES:-'{"worker_tag": 1}'}
STOP_GRACE_S=${STOP_GRACE_S:-5}
START_TIMEOUT_S=${START_TIMEOUT_S:-60}
BRIDGE=${BRIDGE:-1}
BRIDGE_HOST=${BRIDGE_HOST:-$HEAD_IP}
BRIDGE_PORT=${BRIDGE_PORT:-$DASHBOARD_PORT}
FORWARD_IN=${FORWARD_IN:-}
OBJECT_STORE_BYTES=${OBJECT_STORE_BYTES:-200000000}  # default would be 30% of RAM per node

export RAY_USAGE_STATS_ENABLED=0
# Fixed ports for the head's two Prometheus endpoints (default 44227/44217).
export DASHBOARD_METRIC_PORT=${DASHBOARD_METRIC_PORT:-52106}
export AUTOSCALER_METRIC_PORT=${AUTOSCALER_METRIC_PORT:-52107}

die() { echo "ray_cluster.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 start|stop|status|exec STATE_DIR [CMD...]"
CMD=$1; STATE=$(mkdir -p "$2" && cd "$2" && pwd); shift 2

alive() {  # running and not a zombie
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
        [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
holder_pid() { cat "$STATE/netns.pid" 2>/dev/null || true; }
ns_id() {  # e.g. net:[4026532301]
    cat "$STATE/netns.id" 2>/dev/null || readlink "/proc/$(holder_pid)/ns/net" 2>/dev/null || true
}
# Every process in our private netns: all Ray daemons, workers, job drivers, the
# bridge (it joined the netns) and the holder. Found by netns inode, so this works
# even if the holder died.
ns_pids() {
    local id p; id=$(ns_id); [ -n "$id" ] || return 0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$id" ] && echo "${p#/proc/}"
    done
    return 0
}
in_ns() { nsenter --net="/proc/$(holder_pid)/ns/net" "$@"; }

dashboard_ready() {  # both nodes ALIVE according to the head's REST API
    in_ns "$PYTHON" - "$HEAD_IP" "$DASHBOARD_PORT" <<'EOF'
import json, sys, urllib.request
try:
    d = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/nodes?view=summary", timeout=2))
    alive = [n for n in d["data"]["summary"] if n["raylet"]["state"] == "ALIVE"]
    sys.exit(0 if len(alive) >= 2 else 1)
except Exception:
    sys.exit(1)
EOF
}

start() {
    local h; h=$(holder_pid)
    if alive "$h" && dashboard_ready; then
        echo "already running: http://$BRIDGE_HOST:$BRIDGE_PORT (state $STATE)"; return 0
    fi
    [ -n "$(ns_pids)" ] && { echo "stale state, stopping first" >&2; stop; }
    rm -f "$STATE"/*.pid "$STATE/netns.id"
    # 1. netns holder: a `sleep` inside a fresh network namespace with only lo (up).
    setsid unshare --net sh -c 'ip link set lo up && echo $$ > "$0/netns.pid" && exec sleep infinity' \
        "$STATE" </dev/null >/dev/null 2>&1 &
    for _ in $(seq 50); do [ -s "$STATE/netns.pid" ] && break; sleep 0.1; done
    h=$(holder_pid); alive "$h" || die "netns holder did not start"
    readlink "/proc/$h/ns/net" >"$STATE/netns.id"
    [ -x "$RAY" ] || die "no ray executable at $RAY: run scripts/provision.sh (or set RAY)"
    cd "$STATE"  # a Ray Job without working_dir runs in the folder `ray start` ran in
    local t0=$EPOCHREALTIME
    el() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
    # 2. head (own session: setsid), 3. worker. All ports pinned, and distinct per node:
    # GCS, node/object manager, agent gRPC, metrics and worker ports bind 0.0.0.0/[::]
    # (inside the netns); the agent HTTP port binds node IP *and* 127.0.0.1.
    # Worker port range = max concurrent worker processes (supervisors, drivers) per node.
    in_ns setsid "$RAY" start --head --disable-usage-stats \
        --node-ip-address="$HEAD_IP" --port="$GCS_PORT" \
        --dashboard-host="$HEAD_IP" --dashboard-port="$DASHBOARD_PORT" \
        --ray-client-server-port=10001 \
        --node-manager-port=52100 --object-manager-port=52101 \
        --dashboard-agent-listen-port=52102 --dashboard-agent-grpc-port=52103 \
        --runtime-env-agent-port=52104 --metrics-export-port=52105 \
        --min-worker-port=52110 --max-worker-port=52159 \
        --object-store-memory="$OBJECT_STORE_BYTES" \
        --temp-dir="$STATE/t" ${HEAD_EXTRA:-} >"$STATE/head.start.log" 2>&1 \
        || { cat "$STATE/head.start.log" >&2; die "head failed"; }
    echo "head up after $(el) s"
    in_ns setsid "$RAY" start --disable-usage-stats \
        --address="$HEAD_IP:$GCS_PORT" --node-ip-address="$WORKER_IP" \
        --node-manager-port=52200 --object-manager-port=52201 \
        --dashboard-agent-listen-port=52202 --dashboard-agent-grpc-port=52203 \
        --runtime-env-agent-port=52204 --metrics-export-port=52205 \
        --min-worker-port=52210 --max-worker-port=52259 \
        --resources="$WORKER_RESOURCES" --include-log-monitor=False \
        --object-store-memory="$OBJECT_STORE_BYTES" \
        --temp-dir="$STATE/t" ${WORKER_EXTRA:-} >"$STATE/worker.start.log" 2>&1 \
        || { cat "$STATE/worker.start.log" >&2; die "worker failed"; }
    echo "worker up after $(el) s"
    # 4. bridge host loopback -> netns dashboard.
    if [ "$BRIDGE" = 1 ] || [ -n "$FORWARD_IN" ]; then
        local args=() f
        [ "$BRIDGE" = 1 ] && args+=(--out "$BRIDGE_HOST:$BRIDGE_PORT=$HEAD_IP:$DASHBOARD_PORT")
        for f in $FORWARD_IN; do args+=(--in "$f=$f"); done
        setsid "$PYTHON" "$HERE/nsbridge.py" "/proc/$h/ns/net" "${args[@]}" \
            </dev/null >"$STATE/bridge.log" 2>&1 &
        echo $! >"$STATE/bridge.pid"
    fi
    until dashboard_ready; do
        awk -v e="$(el)" -v m="$START_TIMEOUT_S" 'BEGIN{exit !(e < m)}' || { stop; die "not ready after ${START_TIMEOUT_S}s"; }
        sleep 0.5
    done
    ns_pids >"$STATE/pids"
    echo "ready after $(el) s: http://$BRIDGE_HOST:$BRIDGE_PORT ($(wc -l <"$STATE/pids") pids in $STATE/pids)"
}

stop() {
    local h pids p left; h=$(holder_pid)
    pids=$( { ns_pids; cat "$STATE/bridge.pid" 2>/dev/null || true; } | grep -vx "${h:-x}" | sort -un)
    if [ -z "$pids" ] && ! alive "$h"; then
        echo "not running"; rm -f "$STATE"/*.pid "$STATE/netns.id"; return 0
    fi
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
    left=""
    for _ in $(seq $((STOP_GRACE_S * 10))); do
        left=""; for p in $pids; do alive "$p" && left="$left $p"; done
        [ -z "$left" ] && break; sleep 0.1
    done
    # GCS, raylets and the runtime-env agent ignore SIGTERM for >10 s.
    # shellcheck disable=SC2086
    [ -n "$left" ] && { echo "SIGKILL:$left"; kill -KILL $left 2>/dev/null || true; }
    # anything spawned meanwhile inside the netns, then the holder
    left=$(ns_pids | grep -vx "${h:-x}" || true)
    # shellcheck disable=SC2086
    [ -n "$left" ] && kill -KILL $left 2>/dev/null || true
    alive "$h" && kill -KILL "$h" 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(ns_pids)" ] && break; sleep 0.1; done
    [ -z "$(ns_pids)" ] || die "still alive: $(ns_pids | tr '\n' ' ')"
    rm -f "$STATE"/*.pid "$STATE/netns.id"
    echo "stopped"
}

status() {
    local h; h=$(holder_pid)
    if ! alive "$h"; then
        [ -n "$(ns_pids)" ] && echo "STALE: $(ns_pids | wc -l) processes left in netns; run stop" || echo "not running"
        return 1
    fi
    echo "netns holder $h; $(ns_pids | wc -l) processes in netns"
    dashboard_ready && echo "dashboard ready: http://$BRIDGE_HOST:$BRIDGE_PORT" || { echo "dashboard NOT ready"; return 1; }
}

case $CMD in
    start) start ;;
    stop) stop ;;
    status) status ;;
    exec) alive "$(holder_pid)" || die "not running"; in_ns "$@" ;;
    *) die "unknown command $CMD" ;;
esac
