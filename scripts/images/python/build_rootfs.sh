#!/usr/bin/env bash
# Recipe for runner/python:3.11: Debian bookworm minbase + python3, plus requirements.txt from the host's pip.
set -euo pipefail
ROOT=$1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

debian_mirror() { # the first deb URI of the machine's own apt sources (never a hard-coded host)
    local uri
    uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    [ -n "$uri" ] || uri="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
    [ -n "$uri" ] || { echo "no Debian mirror found in /etc/apt/sources.list{.d/debian.sources,}" >&2; exit 1; }
    echo "$uri"
}

debootstrap --variant=minbase --include=python3,bash,ca-certificates bookworm "$ROOT" "$(debian_mirror)" \
    >"$ROOT.debootstrap.log" 2>&1 || { tail -n 30 "$ROOT.debootstrap.log" >&2; exit 1; }
ln -sf python3 "$ROOT/usr/bin/python"

SITE="$ROOT/usr/lib/python3/dist-packages"
# (pip's closing "dependency conflicts" note compares against the host's own packages: harmless here.)
python3 -m pip install --disable-pip-version-check --root-user-action=ignore \
    --target "$SITE" -r "$HERE/requirements.txt" >"$ROOT.pip.log" 2>&1 || { tail -n 30 "$ROOT.pip.log" >&2; exit 1; }
# Console scripts land in $SITE/bin with the host interpreter's shebang: move them and point them at python3.
if [ -d "$SITE/bin" ]; then
    for script in "$SITE"/bin/*; do
        sed -i '1s|^#!.*python.*$|#!/usr/bin/python3|' "$script"
        mv "$script" "$ROOT/usr/local/bin/"
    done
    rmdir "$SITE/bin"
fi
# Smaller image: apt caches and package lists are not needed at run time.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/dev/*
