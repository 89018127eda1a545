#!/usr/bin/env bash
# Check a freshly built runner/busybox image: a shell runs and its exit code comes back.
set -euo pipefail
rc=0
docker run --rm --network none "$1" sh -c 'test -d /tmp && exit 3' || rc=$?
[ "$rc" = 3 ] || { echo "expected exit code 3 from $1, got $rc" >&2; exit 1; }
