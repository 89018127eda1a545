"""Images built from a conda file: the file's packages installed with pip on its base image, cached by
content hash, with a progress line while it builds.

There is no conda here (nor can one be downloaded into an image offline), so every package goes into the
image's own Python with pip (``runner.spec.environment`` turns conda pins into pip requirements). The
build context holds a ``Dockerfile``, ``requirements.txt`` and the host's own pip wheel (Python's bundled
``ensurepip`` wheel), which runs from the wheel file: the base image needs Python, not pip. If the image
has ``python<x.y>`` for the version the conda file pins, that interpreter is used; otherwise ``python3``,
and the build says so.

- Tag ``runner-conda/<hash>:latest``, where the hash covers the base image's id, the Python version, the
  requirements and this recipe: the same conda file on the same base is built once.
- The base image must be local (``RUNNER_ALLOW_PULL`` lets the backend pull it first, as for any image);
  the build itself never pulls.
- pip needs the package index: the build's ``RUN`` uses the host's network (``network_mode="host"``; never
  a bridge), trusts what the host's pip trusts (the CA bundle named by ``PIP_CERT``,
  ``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE``, else the system bundle: public certificates, copied into the
  build) and uses the host's ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` when they are http(s) URLs
  without credentials (a credential would stay in the image's history). Requirements the base image
  already satisfies need no network at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.errors import BackendError
from runner.spec.environment import CondaSpec

log = logging.getLogger(__name__)

RECIPE_VERSION = "1"  # part of the hash: bump when the Dockerfile below changes
TAG_PREFIX = "runner-conda/"
LABEL = "runner.conda.sha256"
_WORK = "/tmp/runner-conda"  # noqa: S108 - a path inside the image being built, removed by the same RUN


def content_hash(spec: CondaSpec, base_id: str) -> str:
    data = [RECIPE_VERSION, base_id, _minor(spec.python), list(spec.requirements)]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _minor(version: str | None) -> str:
    return ".".join((version or "").split(".")[:2])


_CA_BUNDLE = "ca-bundle.pem"
_SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def host_ca_bundle() -> Path | None:
    """The certificates the host's pip trusts (an intercepting proxy's CA among them, if any)."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return next((Path(p) for p in _SYSTEM_BUNDLES if Path(p).is_file()), None)


def index_options() -> list[str]:
    """The host's package index settings that can be used inside a build (http(s), no credentials)."""
    options: list[str] = []
    for name, flag in (("PIP_INDEX_URL", "--index-url"), ("PIP_EXTRA_INDEX_URL", "--extra-index-url")):
        for url in (os.environ.get(name) or "").split():
            if url.startswith(("https://", "http://")) and "@" not in url:
                options += [flag, url]
    return options


def dockerfile(spec: CondaSpec, base_id: str, wheel: str, *, ca_bundle: bool = False,
               index: list[str] | None = None) -> str:
    python = _minor(spec.python)
    steps = ["set -e", "py=python3"]
    if python:
        steps += [f"if command -v python{python} >/dev/null 2>&1; then py=python{python}; fi",
                  "have=$($py -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])')",
                  f'if [ "$have" != "{python}" ]; then echo "runner: warning: the conda file asks for '
                  f'Python {python}; the image has Python $have, which gets the packages (no conda)"; fi']
    if spec.requirements:
        extra = " ".join([*(["--cert", f"{_WORK}/{_CA_BUNDLE}"] if ca_bundle else []), *(index or [])])
        steps.append(f"$py {_WORK}/{wheel}/pip install --no-cache-dir --disable-pip-version-check "
                     f"--root-user-action=ignore --break-system-packages {extra} -r {_WORK}/requirements.txt"
                     .replace("  ", " "))
    steps.append(f"rm -rf {_WORK}")
    return (f"FROM {base_id}\nCOPY . {_WORK}/\nRUN " + "; \\\n    ".join(steps) + "\n"
            f'LABEL {LABEL}="{content_hash(spec, base_id)}"\n')


def pip_wheel() -> Path:
    """The host's bundled pip wheel (Python's ``ensurepip``; Debian keeps it in /usr/share/python-wheels)."""
    import ensurepip  # the stdlib's bundled wheels, only needed for a build

    for folder in (Path(ensurepip.__file__).parent / "_bundled", Path("/usr/share/python-wheels")):
        found = sorted(folder.glob("pip-*-py3-none-any.whl"))
        if found:
            return found[-1]
    raise BackendError("no pip wheel found on this machine to install a conda file's packages with",
                       hint="install Python's ensurepip wheels (Debian: apt-get install python3-pip-whl)")


@contextmanager
def _context(spec: CondaSpec, base_id: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="runner-conda-"))
    try:
        wheel = pip_wheel()
        shutil.copyfile(wheel, folder / wheel.name)
        bundle = host_ca_bundle()
        if bundle is not None:
            shutil.copyfile(bundle, folder / _CA_BUNDLE)
        (folder / "requirements.txt").write_text("".join(f"{line}\n" for line in spec.requirements))
        (folder / "Dockerfile").write_text(dockerfile(spec, base_id, wheel.name, ca_bundle=bundle is not None,
                                                      index=index_options()))
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class BuildProgress:
    """One updating line on a terminal (rich), else each build step in the log."""

    def __init__(self, title: str, *, quiet: bool) -> None:
        self.title = title
        self.show = not quiet and sys.stderr.isatty()
        self._status: Any = None
        self.tail: list[str] = []

    def __enter__(self) -> BuildProgress:
        if self.show:
            from rich.console import Console  # only a terminal build draws

            self._status = Console(stderr=True).status(self.title)
            self._status.__enter__()
        return self

    def line(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        self.tail = (self.tail + [text])[-15:]
        if text.startswith("runner: warning:"):
            log.warning("%s", text.removeprefix("runner: warning: "))
        if self._status is not None:
            self._status.update(f"{self.title}: {text[:100]}")
        else:
            log.info("%s: %s", self.title, text)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)


def build_conda_image(client: Any, spec: CondaSpec, base: Any, *, quiet: bool = False) -> Any:
    """The image for ``spec`` on the local image ``base``: found by its hash, or built now."""
    import docker.errors

    digest = content_hash(spec, str(base.id))
    tag = f"{TAG_PREFIX}{digest[:16]}:latest"
    try:
        return client.images.get(tag)
    except docker.errors.ImageNotFound:
        pass
    title = f"building environment image {tag} ({len(spec.requirements)} packages on {spec.base_image})"
    with _context(spec, str(base.id)) as context, BuildProgress(title, quiet=quiet) as progress:
        try:
            for chunk in client.api.build(path=str(context), tag=tag, network_mode="host", pull=False,
                                          rm=True, forcerm=True, decode=True):
                if "error" in chunk:
                    raise BackendError(f"building the environment from {spec.source} failed: "
                                       f"{str(chunk['error']).strip()}",
                                       hint="build log tail:\n    " + "\n    ".join(progress.tail))
                progress.line(str(chunk.get("stream", "")))
        except docker.errors.APIError as exc:
            raise BackendError(f"building the environment from {spec.source} failed: {exc.explanation}",
                               hint="the base image must exist locally") from exc
    log.info("built %s from %s", tag, spec.source)
    return client.images.get(tag)
