# Small helpers shared by the provisioning scripts (sourced, not run).

log() { echo "[provision] $*" >&2; }

die() {
    echo "[provision] ERROR: $*" >&2
    exit 1
}

# summary COMPONENT STATE: the one line per component printed on every run.
summary() { printf '[provision] %-16s %s\n' "$1" "$2"; }

# wait_until SECONDS COMMAND...: poll COMMAND every 0.5 s until it succeeds; 1 on timeout.
wait_until() {
    local limit=$1
    shift
    local deadline
    deadline=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# seconds_since START: elapsed seconds (one decimal) since START, an $EPOCHREALTIME value.
seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
