"""Building an environment image from a build context, with nothing pulled unless pulling is allowed.

The engine's builder pulls a ``FROM`` (or ``COPY --from``) image that is not local, whatever ``pull=False``
says (that only stops it pulling a newer one): so before a build, unless ``RUNNER_ALLOW_PULL=1``, the
Dockerfile is read and every image it names (``runner.backends.dockerfile``) must be local, else the job
stops with the one error a missing plain image gets, at the Dockerfile's line; and it must ``ADD`` no URL
(the engine fetches one itself, whatever network the build's ``RUN`` steps get: ``"none"`` here), nor
declare an ``ONBUILD ADD`` of one, else one error at its line, before the engine is asked anything. A base
image's own ``ONBUILD`` triggers (``Config.OnBuild``: they run in this build, right after its ``FROM``) are
read the same way: one that ``ADD``s a URL is refused (naming the image and the trigger), and an image a
trigger's ``COPY --from`` names must be local. A failed build's message masks a URL's secrets.

The Dockerfile is read as the engine finds it in the context, never out of it: its path (and any link on
the way) resolved inside the context, as if the context were the root (``..`` stops there, a link's
absolute target starts there), then opened one folder at a time with no link followed; at most
``MAX_DOCKERFILE`` bytes, never blocking (a FIFO swapped in).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from runner.backends.dockerfile import PULL_ALLOWED, ImageUse, fetch_refused, scan, triggers_scan
from runner.backends.dockerfile_words import short
from runner.errors import BackendError, SourceLocation
from runner.url_secrets import without_secrets

MAX_DOCKERFILE = 1 << 20
_MAX_LINKS = 40
_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # a RUN step's terminal colours, in the build log
_ARCH = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm"}
BUILD_HINT = ("the build has no network (a RUN step cannot download anything), uses local images only and "
              "ADDs no URL, unless RUNNER_ALLOW_PULL=1; fix the Dockerfile and run the job again")


def build_image(client: Any, context: Path, dockerfile: str | None, tag: str, *, allow_pull: bool) -> Any:
    """``tag`` built from ``context``: unless ``allow_pull``, only once every image it names is local."""
    import docker.errors

    if not allow_pull:
        check_images_local(client, context, dockerfile)
    try:
        image, _ = client.images.build(path=str(context), dockerfile=dockerfile, tag=tag,
                                       network_mode="none", pull=False, rm=True, forcerm=True)
    except docker.errors.BuildError as exc:
        reason = exc.msg.get("stream", exc.msg) if isinstance(exc.msg, dict) else exc.msg
        lines = [_one_line(str(c.get("stream", c.get("error", "")))) for c in exc.build_log]
        tail = [line for line in lines if line][-10:]
        raise BackendError(f"building the environment from {context} failed: {_one_line(str(reason))}",
                           hint=BUILD_HINT + ("; build log tail:\n    " + "\n    ".join(tail) if tail
                                              else "")) from exc
    except docker.errors.APIError as exc:
        raise BackendError(f"building the environment from {context} failed: "
                           f"{_one_line(str(exc.explanation))}", hint=BUILD_HINT) from exc
    return image


def check_images_local(client: Any, context: Path, dockerfile: str | None) -> None:
    """The Dockerfile ``ADD``s no URL, and every image it names is local (for its ``--platform``, if it
    names one); each ``FROM`` image's ``ONBUILD`` triggers ``ADD`` no URL and name local images only."""
    path, text = read_dockerfile(context, dockerfile)
    images, fetches = scan(text, path)
    if fetches:
        raise fetch_refused(fetches[0], path)
    for use in images:
        where = SourceLocation(path, use.line)
        hint = (f"build or import it (`docker images` lists what exists), change the Dockerfile's "
                f"{use.instruction} to a local image, or set {PULL_ALLOWED}")
        attrs = getattr(_local_image(client, use.image, f"the build's {use.instruction}", where, hint),
                        "attrs", {}) or {}
        have = _platform(attrs)
        if use.platform and not _same_platform(have, use.platform):
            raise BackendError(f"image '{use.image}' is local for {have}, not for {use.platform} (the "
                               "build's FROM --platform), and pulling is disabled", hint=hint, where=where)
        if use.instruction == "FROM":
            _check_triggers(client, use, attrs.get("Config") or {}, where)


def _local_image(client: Any, image: str, what: str, where: SourceLocation, hint: str) -> Any:
    """The local ``image`` (``what`` names it in the build), else one error at ``where``."""
    import docker.errors

    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound as exc:
        raise BackendError(f"image '{image}' ({what}) is not available locally (pulling is disabled)",
                           hint=hint, where=where) from exc
    except docker.errors.APIError as exc:
        raise BackendError(f"cannot inspect image '{image}' ({what}): {_one_line(str(exc.explanation))}",
                           where=where) from exc


def _check_triggers(client: Any, base: ImageUse, config: dict[str, Any], where: SourceLocation) -> None:
    """``base``'s ``ONBUILD`` triggers (run in this build after its ``FROM``, with its ``ENV``) fetch
    nothing from outside this machine, and the images their ``COPY --from`` names are local."""
    triggers = [str(trigger) for trigger in config.get("OnBuild") or []]
    if not triggers:
        return
    named = f"the base image '{base.image}' (the build's FROM)"
    hint = f"build FROM an image without that trigger, or set {PULL_ALLOWED}"
    try:
        uses, fetches = triggers_scan(triggers, [str(entry) for entry in config.get("Env") or []])
    except BackendError as exc:
        raise BackendError(f"{named} has an ONBUILD trigger this build would run that cannot be read the "
                           f"way every engine reads it: {exc.message}", hint=hint, where=where) from None
    owner = [index for index, trigger in enumerate(triggers) for _ in trigger.split("\n")]  # by line
    for fetch in fetches:
        trigger = short(triggers[owner[fetch.line - 1]])
        unset = ", ".join(f"'{name}'" for name in fetch.unset)
        could = (f"could fetch '{short(fetch.source)}' (its ENV does not set {unset})" if unset
                 else f"would fetch '{short(fetch.source)}'")
        raise BackendError(f"{named} has the ONBUILD trigger '{trigger}', which {could} from outside this "
                           f"machine in this build (nothing is fetched from outside it unless "
                           f"{PULL_ALLOWED})", hint=hint, where=where)
    for use in uses:
        trigger = short(triggers[owner[use.line - 1]])
        _local_image(client, use.image, f"COPY --from in the ONBUILD trigger '{trigger}' of the base image "
                     f"'{base.image}', the build's FROM", where,
                     f"build or import it (`docker images` lists what exists), {hint}")


def read_dockerfile(context: Path, dockerfile: str | None) -> tuple[Path, str]:
    """The Dockerfile's path and text (undecodable bytes replaced), read inside ``context`` only."""
    name = dockerfile or "Dockerfile"
    inside = os.path.relpath(os.path.join(context, name), context)  # as docker-py sends it
    if inside == ".." or inside.startswith("../"):
        raise BackendError(f"the Dockerfile '{name}' is outside the build context {context}",
                           hint="name a Dockerfile inside the build context (dockerfile_path)")
    name = inside if os.path.isabs(name) else name
    try:
        parts = _resolve_inside(context, name)
        data = _read_parts(context, parts)
    except OSError as exc:
        reason = "it is not a regular file" if exc.errno == errno.EINVAL else (exc.strerror or str(exc))
        raise BackendError(f"the build context {context} has no readable {name} ({reason})",
                           hint="restore it, or set environment.build.dockerfile_path to a file inside the "
                                "build context") from exc
    path = context.joinpath(*parts)
    if len(data) > MAX_DOCKERFILE:
        raise BackendError(f"the Dockerfile {path} is larger than {MAX_DOCKERFILE >> 20} MiB",
                           hint="a Dockerfile is a short recipe: keep data in other files of the context")
    return path, data.decode("utf-8", errors="replace")


def _resolve_inside(context: Path, name: str) -> list[str]:
    """``name``'s components inside ``context``, every link on the way resolved with ``context`` as the
    root (``..`` never climbs out of it, an absolute target starts from it): no component is a link."""
    pending = list(PurePosixPath(name).parts)
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "/":
            resolved = []
        elif part == "..":
            resolved = resolved[:-1]
        elif part not in ("", "."):
            candidate = context.joinpath(*resolved, part)
            if candidate.is_symlink():
                hops += 1
                if hops > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
                pending = list(PurePosixPath(os.readlink(candidate)).parts) + pending
            else:
                resolved.append(part)
    if not resolved:
        raise OSError(errno.EISDIR, os.strerror(errno.EISDIR))
    return resolved


def _read_parts(context: Path, parts: list[str]) -> bytes:
    """The regular file at ``context/parts``, opened folder by folder with no link followed (a link
    swapped in since ``_resolve_inside`` fails), never blocking, at most ``MAX_DOCKERFILE + 1`` bytes."""
    folder = os.open(context, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read(MAX_DOCKERFILE + 1)


def _platform(attrs: dict[str, Any]) -> str:
    return "/".join(filter(None, (attrs.get("Os"), attrs.get("Architecture"), attrs.get("Variant"))))


def _same_platform(have: str, wanted: str) -> bool:
    """The same OS and architecture (a variant, and what the image does not say, is not compared)."""
    have_parts, wanted_parts = have.lower().split("/"), wanted.lower().split("/")
    for mine, theirs in zip(have_parts[:2], wanted_parts[:2], strict=False):
        if mine and theirs and _ARCH.get(mine, mine) != _ARCH.get(theirs, theirs):
            return False
    return True


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(without_secrets(_COLOUR.sub("", text)).split())
    return line if len(line) <= limit else line[:limit - 3] + "..."
