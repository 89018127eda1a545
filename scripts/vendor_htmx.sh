#!/usr/bin/env bash
# Re-create the web UI's vendored htmx (runner/ui/static/htmx.min.js and its license) from the npm
# registry, and check it is byte for byte the release that is checked in. Run by hand when changing the
# version (then update HTMX_SHA256 here and in tests/ui/test_ui_units.py); the UI never loads it from a
# CDN. htmx 2.x on purpose: htmx 4 (npm's `latest` today) changes behaviour the templates rely on.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HTMX_VERSION="${HTMX_VERSION:-2.0.11}"
HTMX_SHA256="${HTMX_SHA256:-d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717}"
DEST="$REPO/runner/ui/static"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX_VERSION" >/dev/null && tar xzf "htmx.org-$HTMX_VERSION.tgz")
echo "$HTMX_SHA256  $work/package/dist/htmx.min.js" | sha256sum -c --quiet -
cp "$work/package/dist/htmx.min.js" "$DEST/htmx.min.js"
cp "$work/package/LICENSE" "$DEST/htmx.LICENSE.txt"  # 0BSD
echo "htmx $HTMX_VERSION -> $DEST (sha256 $HTMX_SHA256)"
