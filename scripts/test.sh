#!/usr/bin/env bash
# The project's test command (README, .ci/run): provision, then lint, type-check, build the docs and run
# the whole suite (unit, contract, integration against real Docker, FUSE and Azurite). Exits non-zero on any failure.
#
#   bash scripts/test.sh [--allow-skips] [pytest args...]
#
# The suite runs with CI=true, whoever calls it: a missing service, package or root privilege then fails
# the test that needs it instead of skipping it (tests/needs.py, tests/conftest.py). Only an explicit
# --allow-skips (a partial local run, e.g. on a machine without Docker) lets such tests skip; every
# other argument goes to pytest (`bash scripts/test.sh -k modes`, `bash scripts/test.sh tests/unit`: a
# path given replaces the default `tests`).
set -euo pipefail

ALLOW_SKIPS=0
declare -a PYTEST_ARGS=()
for arg in "$@"; do
    if [ "$arg" = "--allow-skips" ]; then
        ALLOW_SKIPS=1
    else
        PYTEST_ARGS+=("$arg")
    fi
done
if [ "$ALLOW_SKIPS" = 1 ]; then
    export CI=false
    echo "test.sh: --allow-skips: tests whose service, package or privilege is missing are skipped" >&2
else
    export CI=true
fi
# pytest's own default is the `tests` folder; a path among the arguments narrows the run to it
declare -a PYTEST_PATHS=(tests)
for arg in "${PYTEST_ARGS[@]}"; do
    case "$arg" in
        tests|tests/*) PYTEST_PATHS=() ;;
    esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
STARTED=$EPOCHREALTIME
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

declare -a RESULTS=()
FAILED=0

step() { # name command... : run one step, remember its outcome, keep going
    local name=$1 started=$EPOCHREALTIME rc=0
    shift
    printf '\n==== %s: %s\n' "$name" "$*"
    "$@" || rc=$?
    local took
    took="$(seconds_since "$started")"
    if [ "$rc" -eq 0 ]; then
        RESULTS+=("$(printf '  %-10s ok      %6s s' "$name" "$took")")
    else
        RESULTS+=("$(printf '  %-10s FAILED  %6s s  (exit %s)' "$name" "$took" "$rc")")
        FAILED=1
    fi
    return 0
}

printf '==== provision: bash scripts/provision.sh\n'
bash scripts/provision.sh || { echo "provisioning failed: nothing else can run" >&2; exit 1; }

step ruff python3 -m ruff check runner mounts tests bin/runner bench
step mypy python3 -m mypy
step mypy-bin python3 -m mypy bin/runner
# bench/ is a namespace package of scripts (python bench/x.py); its modules import bench.common.
step mypy-bench python3 -m mypy --explicit-package-bases bench
# The documentation site (mkdocs.yml, docs/): strict (a broken link, anchor, nav entry or API reference
# fails), then nothing in it may load from another host. tests/docs/ runs the pages' examples.
docs_site() {
    local site rc=0
    site="$(mktemp -d "${TMPDIR:-/tmp}/runner-site.XXXXXX")"
    NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true python3 -m mkdocs build --strict --quiet \
        --site-dir "$site" && python3 scripts/check_offline_site.py "$site" || rc=$?
    rm -rf "$site"
    return "$rc"
}
step docs docs_site
# Exit code 5 (no tests collected) counts as a failure too: there must be tests.
step pytest python3 -m pytest -q -p no:cacheprovider "${PYTEST_PATHS[@]}" "${PYTEST_ARGS[@]}"

# The CLI calls above started a warm fork server for this checkout (docs/design/forkserver.md); it would exit
# by itself when idle, but a test run leaves nothing behind.
server_socket="$(python3 -c 'from runner.launch import server_paths; p = server_paths(); print(p.socket if p else "")' 2>/dev/null || true)"
if [ -n "$server_socket" ]; then
    pkill -f -- "runner.forkserver $server_socket" || true
fi

printf '\n==== summary (%s s in all)\n' "$(seconds_since "$STARTED")"
printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
