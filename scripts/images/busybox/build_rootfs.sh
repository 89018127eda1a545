#!/usr/bin/env bash
# Recipe for runner/busybox:latest: fill ROOT ($1) with a static busybox and its applet links.
set -euo pipefail
ROOT=$1
BUSYBOX=/bin/busybox  # from the Debian package busybox-static

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/tmp,proc,sys,dev}
chmod 1777 "$ROOT/tmp" "$ROOT/var/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
# `busybox --list-full` prints every applet with its usual directory (bin/sh, usr/bin/env, ...).
"$BUSYBOX" --list-full | while read -r applet; do
    [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
cat >"$ROOT/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$ROOT/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
