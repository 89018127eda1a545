#!/usr/bin/env bash
# Provision everything `runner` and its tests need on a Debian 12 machine (run as root):
#   Debian packages (Chromium for the web UI's browser tests), the Python package (editable, with the
#   dev, docs and ui extras), FUSE settings, a Docker engine,
#   Azurite (Azure Blob emulator) on 127.0.0.1, and the base images built offline.
# Idempotent: a second run on a provisioned machine only checks, and takes seconds.
#
# Environment:
#   RUNNER_CACHE_DIR      cache root (default ~/.cache/runner); Azurite and image build dirs live here
#   RUNNER_AZURITE_PORT   Azurite Blob port (default: the port file, else 10000)
#   RUNNER_SKIP_IMAGES=1  skip building the base images
#   (Ray for the tests' cluster goes into its own venv, $RUNNER_CACHE_DIR/ray-venv)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${RUNNER_CACHE_DIR:-$HOME/.cache/runner}"
AZURITE_VERSION="3.37.0"
AZURITE_DIR="$CACHE_DIR/azurite"
START_SECONDS=$EPOCHREALTIME
export DEBIAN_FRONTEND=noninteractive

# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

mkdir -p "$CACHE_DIR"
# One provisioning at a time on this machine (tests, demo and CI may all call it).
exec 9>"$CACHE_DIR/provision.lock"
if ! flock -n 9; then
    log "another provisioning is running; waiting for it"
    flock 9
fi

provision_apt_packages() {
    # chromium (+ a font) for the web UI's browser tests, iproute2 for their loopback-only namespace
    local wanted=(docker.io fuse3 libfuse2 debootstrap busybox-static rclone curl ca-certificates
        chromium fonts-liberation iproute2)
    local missing=()
    local pkg
    for pkg in "${wanted[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        summary "apt packages" "already there"
        return
    fi
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    summary "apt packages" "installed ${missing[*]}"
}

provision_python_package() {
    local stamp="$CACHE_DIR/pip-install.stamp"
    local extras="dev,docs,ui" # docs: MkDocs and its plugins (the site the test command builds); ui: runner ui
    local want
    # (bin/runner is copied into the interpreter's bin folder by the install: an edit needs a reinstall)
    want="$REPO $(command -v python3) $(cat "$REPO/pyproject.toml" "$REPO/bin/runner" | sha256sum | cut -d' ' -f1) compat [$extras]"
    # (the check below imports runner with -P: not from the working folder, which may be $REPO itself,
    # but from what is installed; a hand-made `pip install -e` of another checkout is then noticed)
    # compiled once, as pip compiles a regular install (PYTHONDONTWRITEBYTECODE would otherwise make
    # every command compile its modules again: ~0.1 s cold, and the fork server client's few ms)
    python3 -m compileall -q "$REPO/runner" "$REPO/mounts" >/dev/null || true
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && command -v runner >/dev/null 2>&1 \
        && [ "$(python3 -P -c 'import runner, os; print(os.path.dirname(os.path.dirname(os.path.abspath(runner.__file__))))' 2>/dev/null)" = "$REPO" ]; then
        summary "python package" "already there (editable install of $REPO)"
        return
    fi
    log "pip install -e $REPO[$extras]"
    # compat mode: a plain path in a .pth file, not setuptools' import-hook finder, which every Python
    # start (so every `runner` command) would import: ~10 ms of a ~70 ms interpreter start here
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        --config-settings editable_mode=compat -e "$REPO[$extras]"
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash # so the new console scripts (runner, ruff, mypy, pytest) are on PATH
    fi
    echo "$want" >"$stamp"
    summary "python package" "installed (editable install of $REPO)"
}

provision_fuse() {
    local changes=()
    if [ ! -e /dev/fuse ]; then
        modprobe fuse 2>/dev/null || true
        [ -e /dev/fuse ] || mknod -m 0666 /dev/fuse c 10 229
        changes+=("created /dev/fuse")
    fi
    if ! grep -qx 'user_allow_other' /etc/fuse.conf 2>/dev/null; then
        echo 'user_allow_other' >>/etc/fuse.conf
        changes+=("enabled user_allow_other in /etc/fuse.conf")
    fi
    if [ "${#changes[@]}" -eq 0 ]; then
        summary "fuse" "already there"
    else
        summary "fuse" "${changes[*]}"
    fi
}

provision_docker_engine() {
    if timeout 20 docker info >/dev/null 2>&1; then
        summary "docker engine" "already running"
        return
    fi
    local logfile="$CACHE_DIR/dockerd.log"
    log "starting dockerd (log: $logfile)"
    setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false \
        >>"$logfile" 2>&1 </dev/null 9>&- &
    if ! wait_until 60 timeout 10 docker info; then
        tail -n 20 "$logfile" >&2 || true
        die "the Docker engine did not answer within 60 s; see $logfile"
    fi
    summary "docker engine" "started (dockerd --bridge=none)"
}

azurite_answers() { # port -> 0 when an Azurite Blob service answers there
    curl -s -o /dev/null -m 2 -D - "http://127.0.0.1:$1/devstoreaccount1?comp=list" 2>/dev/null \
        | grep -qi '^server: azurite'
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

azurite_installed() {
    local manifest="$AZURITE_DIR/node_modules/azurite/package.json"
    [ -f "$manifest" ] && [ -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ] \
        && [ "$(node -p "require('$manifest').version" 2>/dev/null)" = "$AZURITE_VERSION" ]
}

install_azurite() {
    command -v npm >/dev/null 2>&1 || die "npm is missing: install Node.js 20 (apt-get install nodejs npm)"
    log "npm install azurite@$AZURITE_VERSION into $AZURITE_DIR"
    mkdir -p "$AZURITE_DIR"
    (cd "$AZURITE_DIR" && npm install --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null)
}

provision_azurite() {
    local state="already there"
    if ! azurite_installed; then
        install_azurite
        state="installed $AZURITE_VERSION"
    fi
    local port_file="$AZURITE_DIR/port" port
    port="${RUNNER_AZURITE_PORT:-$( [ -f "$port_file" ] && cat "$port_file" || echo 10000)}"
    mkdir -p "$AZURITE_DIR/data"
    echo "$port" >"$port_file"
    if azurite_answers "$port"; then
        summary "azurite" "$state; running on 127.0.0.1:$port"
        return
    fi
    port_in_use "$port" && die "port $port is taken by something that is not Azurite; set RUNNER_AZURITE_PORT"
    local logfile="$AZURITE_DIR/azurite.log"
    log "starting azurite-blob on 127.0.0.1:$port (log: $logfile)"
    setsid nohup "$AZURITE_DIR/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
        --location "$AZURITE_DIR/data" --skipApiVersionCheck --loose --disableTelemetry \
        >>"$logfile" 2>&1 </dev/null 9>&- &
    if ! wait_until 60 azurite_answers "$port"; then
        tail -n 20 "$logfile" >&2 || true
        die "Azurite did not answer on 127.0.0.1:$port within 60 s; see $logfile"
    fi
    summary "azurite" "$state; started on 127.0.0.1:$port"
}

provision_images() {
    if [ "${RUNNER_SKIP_IMAGES:-0}" = "1" ]; then
        summary "images" "skipped (RUNNER_SKIP_IMAGES=1)"
        return
    fi
    if [ ! -f "$REPO/scripts/build_images.sh" ]; then
        summary "images" "skipped (scripts/build_images.sh not there yet)"
        return
    fi
    bash "$REPO/scripts/build_images.sh"
}

# Ray for the nodes of the tests' 2-node cluster (issue 17): its own venv that also sees the system
# site-packages (runner's dependencies: docker, adlfs, pydantic, mfusepy), so ray and its ~25
# dependencies never change the interpreter everyone else uses. The submitting side needs no ray.
RAY_VERSION="2.60.0"
provision_ray() {
    local venv="$CACHE_DIR/ray-venv"
    # (the installed version from its dist-info folder: importing ray to ask takes ~1-2 s)
    if [ -x "$venv/bin/ray" ] && compgen -G "$venv/lib/python3*/site-packages/ray-$RAY_VERSION.dist-info" >/dev/null; then
        summary "ray" "already there ($venv, ray $RAY_VERSION)"
        return
    fi
    log "pip install ray[default]==$RAY_VERSION into $venv"
    python3 -m venv --system-site-packages "$venv"
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
        "ray[default]==$RAY_VERSION" >"$CACHE_DIR/ray-pip.log" 2>&1; then
        tail -n 20 "$CACHE_DIR/ray-pip.log" >&2
        die "installing ray failed; see $CACHE_DIR/ray-pip.log"
    fi
    summary "ray" "installed ray $RAY_VERSION into $venv"
}

provision_apt_packages
provision_fuse
provision_docker_engine
provision_azurite
provision_python_package
provision_ray
provision_images
summary "total" "$(seconds_since "$START_SECONDS") s"
