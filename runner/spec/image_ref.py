"""Docker image references (``[host[:port]/]path[:tag][@digest]``), checked before a job is queued:
a name the engine can never find fails ``job validate`` and ``job create`` with one message, not the
job's run. The grammar is the engine's (github.com/distribution/reference, ``reference.go``).
Environments written as ``azureml:`` references are left to the environment mapping; ``<name>@latest``
without it (Azure's tutorials) is one too (``environment_reference``). Pure."""

from __future__ import annotations

import re

from runner.errors import SpecError
from runner.lazy_re import on_first_use
from runner.url_secrets import without_secrets

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?")
MAX_NAME = 255  # the repository name, without tag or digest
# <name>@latest: an environment (an image's @ is always followed by a digest, <algorithm>:<hex>)
_BARE_LATEST = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*@latest$")


_env_name_re = on_first_use(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def environment_reference(text: str) -> str:
    """An ``environment:`` string as written, except ``<name>@latest`` (as in azure.ai.ml, where a bare
    ``<name>@latest`` names a registered environment): ``azureml:<name>@latest``."""
    value = text.strip()
    return f"azureml:{value}" if _BARE_LATEST.match(value) else text


def check_image_reference(image: str, *, field: str = "environment") -> None:
    """Raise the one ``SpecError`` for an image name Docker would refuse (naming ``field``)."""
    if image.startswith("azureml:"):
        return  # an Azure ML environment that is not mapped: the run says how to map it
    if image.startswith("file:"):
        raise SpecError(f"the environment '{image}' is an Azure ML environment file, which is not read "
                        "here", field=field,
                        hint="give the image it names (environment: {image: ...}), a build context "
                             "(environment: {build: {path: ...}}), or map it with `runner environment "
                             "create`",
                        python_hint="give the image it names (image=...), or a build context "
                                    "(build_context=...), or load it: `ml_client.environments."
                                    f"create_or_update(load_environment({image.removeprefix('file:')!r}))`")
    if not image.strip():
        raise SpecError("the job has no environment image", field=field,
                        hint="set environment: <image> or environment: {build: {path: ...}}")
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if not REFERENCE.fullmatch(image) or len(name) > MAX_NAME:
        shown = without_secrets(image)  # a secret written by mistake is never shown
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        hint = "write [registry/]name[:tag] in lowercase, e.g. python:3.11 or runner/busybox:latest"
        if _env_name_re().match(image.split(":", 1)[0]) and image.count(":") <= 1:  # a name (and version)
            env, _, version = image.partition(":")
            hint += (f"; for an Azure ML environment write azureml:{env}"
                     + (f":{version}" if version else "@latest"))
        raise SpecError(f"'{shown}' is not a valid Docker image name", field=field, hint=hint)
