#!/usr/bin/env bash
# Build the base images offline (nothing can be pulled here) from the recipes in scripts/images/<name>/:
#   build_rootfs.sh ROOT  fills a root filesystem; image.env names the image, its extra tags, ENV and CMD.
# Each image carries the label runner.recipe.sha256 (hash of its recipe folder); it is rebuilt only when
# that hash changes. Build folders live under $RUNNER_CACHE_DIR/images (outside the checkout).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${RUNNER_CACHE_DIR:-$HOME/.cache/runner}"
RECIPES="$REPO/scripts/images"
LABEL=runner.recipe.sha256

# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"

recipe_hash() { # recipe folder -> sha256 over its files' names and contents
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

image_label() { # image -> its recipe label, or nothing
    docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

import_rootfs() { # root image env cmd hash
    local root=$1 image=$2 env=$3 cmd=$4 hash=$5
    tar -C "$root" --numeric-owner -c . \
        | docker import --change "ENV $env" --change "CMD $cmd" --change "LABEL $LABEL=$hash" - "$image" >/dev/null
}

tag_extras() { # image extra-tags...
    local image=$1 tag
    shift
    for tag in "$@"; do
        docker tag "$image" "$tag"
    done
}

build_image() { # recipe name
    local recipe="$RECIPES/$1" IMAGE EXTRA_TAGS IMAGE_ENV IMAGE_CMD
    # shellcheck source=/dev/null
    source "$recipe/image.env"
    local hash
    hash="$(recipe_hash "$recipe")"
    if [ "$(image_label "$IMAGE")" = "$hash" ]; then
        # shellcheck disable=SC2086
        tag_extras "$IMAGE" $EXTRA_TAGS
        summary "image $1" "already there ($IMAGE, recipe ${hash:0:12})"
        return
    fi
    local started=$EPOCHREALTIME root="$CACHE_DIR/images/$1/rootfs"
    log "building $IMAGE from scripts/images/$1 (build dir $root)"
    rm -rf "$root"
    mkdir -p "$(dirname "$root")"
    bash "$recipe/build_rootfs.sh" "$root"
    # Import under a candidate name first: the real tags move only once the image passes verify.sh.
    local candidate="runner/candidate-$1:${hash:0:12}"
    import_rootfs "$root" "$candidate" "$IMAGE_ENV" "$IMAGE_CMD" "$hash"
    rm -rf "$root"
    if [ -f "$recipe/verify.sh" ] && ! bash "$recipe/verify.sh" "$candidate"; then
        docker rmi "$candidate" >/dev/null 2>&1 || true
        die "the new $IMAGE does not pass $recipe/verify.sh; the previous image (if any) is kept"
    fi
    # shellcheck disable=SC2086
    tag_extras "$candidate" "$IMAGE" $EXTRA_TAGS
    docker rmi "$candidate" >/dev/null
    # The image this one replaced is now untagged: drop it (and any other leftover of these recipes).
    docker image prune -f --filter "label=$LABEL" >/dev/null || true
    summary "image $1" "built $IMAGE in $(seconds_since "$started") s (recipe ${hash:0:12})"
}

# One image build at a time on this machine (a second build would delete the first one's build folder).
mkdir -p "$CACHE_DIR/images"
exec 8>"$CACHE_DIR/images/build.lock"
if ! flock -n 8; then
    log "another image build is running; waiting for it"
    flock 8
fi

timeout 20 docker info >/dev/null 2>&1 || die "no Docker engine answers: run scripts/provision.sh"
build_image busybox
build_image python
