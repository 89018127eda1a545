"""Environments: Azure ML environment names mapped to local Docker images (or a build context).

    runner environment create --name sklearn-1.5 --image runner/python:3.11
    runner environment create --name my-env --version 2 --build-context ./env --dockerfile Dockerfile
    runner environment create --file env.yml    # Azure's environment YAML: image + conda_file, or build

A registered ``conda_file`` is a snapshot of the file's text (the file may move or change afterwards), kept
with the version's tags in ``<ws>/environments/<name>/<version>.json`` (one file replaced atomically, in
the transaction that records the version, and put back as it was when that transaction fails); a job that
names the environment gets the image the same environment written inline builds (``CondaSpec``).

A job's ``environment: azureml:<env>:<ver>``, ``azureml:<env>@latest`` or
``azureml://registries/<reg>/environments/<name>/(labels/latest|versions/<v>)`` is looked up by name (the
registry part is accepted and ignored), and so is a bare ``<name>@latest`` (``azureml:`` left out, as in
azure.ai.ml); a plain image name is used as is.

Built in: Azure's curated scikit-learn environments (``sklearn-1.0`` ... ``sklearn-1.5`` in the
``azureml`` registry, ``AzureML-sklearn-1.x[-ubuntuXX.XX-pyXX-cpu]`` in a workspace) run on the
provisioned ``runner/python:3.11`` (scikit-learn 1.5, pandas, numpy, scipy, mlflow-skinny), every
version, with no set-up step. ``environment list`` shows them as built in; an ``environment create`` of
the same name takes precedence.

Inline environments are resolved too: ``{image, conda_file}`` becomes an image built from the conda file
(``CondaSpec``, built by the Docker backend), ``{build: {path}}`` a build context, and ``file:<env.yml>``
(or ``file:<folder with a Dockerfile>``) reads Azure's environment YAML.
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import ResolveError, SpecError
from runner.file_urls import is_file_form
from runner.spec.environment import (
    CondaSpec,
    conda_spec,
    environment_file,
    load_conda_file,
    local_file,
    not_found_kind,
)
from runner.spec.image_ref import check_image_reference
from runner.spec.job import InlineEnvironment
from runner.spec.names import asset_name_re, version_problem
from runner.spec.yamlio import dump_yaml, load_yaml_text
from runner.uris import EnvironmentRef, parse_environment
from runner.workspace.db import Workspace
from runner.workspace.environment_record import EnvironmentRecord

logger = logging.getLogger(__name__)

_PLAIN_ENV = re.compile(r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*):(?P<ver>[A-Za-z0-9_.\-]+)$")

PROVISIONED_IMAGE = "runner/python:3.11"
# Azure's curated scikit-learn 1.x environments: registry names (sklearn-1.5) and workspace names
# (AzureML-sklearn-1.5, AzureML-sklearn-1.0-ubuntu20.04-py38-cpu), any version or label
_BUILTIN = re.compile(r"^(?:AzureML-)?sklearn-1\.[0-5](?:-ubuntu\d+\.\d+-py\d+-cpu)?$")
PROVISIONED_HOLDS = "Python 3.11, scikit-learn 1.5, pandas, numpy, scipy, mlflow-skinny"
_BUILTIN_NOTE = ("built in: Azure's curated scikit-learn environment runs on the provisioned "
                 f"{PROVISIONED_IMAGE} ({PROVISIONED_HOLDS})"
                 "{older}; `runner environment create` of this name overrides it")


@dataclass(frozen=True)
class ResolvedEnvironment:
    """What a job's ``environment:`` maps to: the local image, or the build context it is built from."""

    image: str  # a local image name; "" for an inline build (the build gets its own tag)
    build_context: str | None = None  # a mapped environment's context (absolute host path)
    dockerfile: str | None = None
    conda: CondaSpec | None = None  # an image to build: the conda file's packages on ``conda.base_image``


class EnvironmentStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def root(self) -> Path:
        """Where each version's conda file text and tags are kept (``<name>/<version>.json``)."""
        return self.workspace.root / "environments"

    def create(self, name: str, *, version: str | None = None, image: str | None = None,
               build_context: str | Path | None = None, dockerfile: str | None = None,
               description: str | None = None, conda_file: str | None = None,
               tags: dict[str, str] | None = None) -> EnvironmentRecord:
        """Create (or replace) an environment version; the version auto-increments when omitted.
        ``conda_file`` is the conda file's text (``read_conda_file`` reads one)."""
        _check(name, image, build_context)
        if conda_file is not None:
            _conda(conda_file, image, source="conda_file")
        if version is not None and (problem := version_problem(version)):
            raise SpecError(problem, field="version",
                            hint="give a version such as 1 or 2.0, or leave --version out for the next one",
                            python_hint="give a version such as 1 or 2.0, or leave version unset for the "
                                        "next one")
        context = str(Path(build_context).expanduser().resolve()) if build_context else None
        if context and not Path(context, dockerfile or "Dockerfile").is_file():
            raise SpecError(f"no {dockerfile or 'Dockerfile'} in build context {context}",
                            field="dockerfile", hint="pass --dockerfile <file inside the build context>",
                            python_hint="give dockerfile= (BuildContext's dockerfile_path=) a file inside "
                                        "the build context")
        put_back: Callable[[], None] | None = None
        try:
            with self.workspace.transaction() as conn:
                if version is None:
                    row = conn.execute("SELECT max(version_num) FROM environments WHERE name = ?",
                                       (name,)).fetchone()
                    version = str((row[0] or 0) + 1)
                record = EnvironmentRecord(name=name, version=version, image=image, build_context=context,
                                           dockerfile=dockerfile if context else None,
                                           description=description, conda_text=conda_file, tags=tags or {})
                conn.execute(
                    "INSERT OR REPLACE INTO environments (name, version, version_num, image, build_context, "
                    "dockerfile, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, version, int(version) if version.isdigit() else None, image, context,
                     record.dockerfile, description, record.created_at.isoformat()))
                put_back = self._keep_extras(record)  # in the transaction: a failure here leaves no row
        except BaseException:
            if put_back is not None:  # the commit failed: the side file as it was before this create
                put_back()
            raise
        return record

    def _extras_path(self, name: str, version: str) -> Path:
        return self.root / name / f"{version}.json"

    def _keep_extras(self, record: EnvironmentRecord) -> Callable[[], None]:
        """Write (or remove) the version's side file; returns what puts the earlier one back (none for a
        new version), for a transaction that does not commit."""
        path = self._extras_path(record.name, record.version)
        earlier = path.read_bytes() if path.is_file() else None
        if record.conda_text is None and not record.tags:
            path.unlink(missing_ok=True)  # a version registered again without them
        else:
            _replace(path, json.dumps({"conda_file": record.conda_text, "tags": record.tags}).encode())
        return lambda: _put_back(path, earlier)

    def _record(self, row: object) -> EnvironmentRecord:
        data = dict(row)  # type: ignore[call-overload]
        data.pop("version_num", None)
        path = self._extras_path(data["name"], data["version"])
        if path.is_file():
            extras = json.loads(path.read_text(encoding="utf-8"))
            data.update(conda_file=extras.get("conda_file"), tags=extras.get("tags") or {})
        return EnvironmentRecord.model_validate(data)

    def list(self, name: str | None = None) -> builtins.list[EnvironmentRecord]:
        """The mapped environments, then the built-in ones no mapping overrides."""
        mapped = self._mapped(name)
        names = {r.name for r in mapped}
        builtins = [builtin_record(n, None) for n in BUILTIN_NAMES if n not in names and name in (None, n)]
        if name is not None:
            return mapped + builtins
        newest: dict[str, str] = {}  # without a name, each entry says its name's newest version (Azure's
        for record in mapped + builtins:  # containers' latest_version); newest first within a name
            newest.setdefault(record.name, record.version)
        return [r.model_copy(update={"latest_version": newest[r.name]}) for r in mapped + builtins]

    def _mapped(self, name: str | None = None) -> builtins.list[EnvironmentRecord]:
        query = "SELECT * FROM environments"
        args: tuple[str, ...] = ()
        if name:
            query, args = query + " WHERE name = ?", (name,)
        with self.workspace.reading() as conn:
            rows = conn.execute(query + " ORDER BY name, coalesce(version_num, 0) DESC, version DESC",
                                args).fetchall()
        return [self._record(r) for r in rows]

    def get(self, name: str, version: str | None = None) -> EnvironmentRecord:
        """One version, or the latest one when ``version`` is None."""
        versions = self._mapped(name)
        chosen = versions[:1] if version is None else [r for r in versions if r.version == version]
        if chosen:
            return chosen[0]
        if not versions and _BUILTIN.match(name):
            return builtin_record(name, version)
        raise ResolveError(
            f"environment '{name}'{f' version {version}' if version else ''} is not mapped to a local "
            f"image; {_known(self._mapped())}",
            hint="map it to a local image: " + create_command(name, version),
            python_hint="map it to a local image: " + create_call(name, version))

    def resolve(self, text: str) -> EnvironmentRecord | None:
        """The record an ``environment:`` reference names, or None for a plain image name."""
        ref = parse_environment(text)
        if ref is None:
            return None
        return self.get_ref(ref)

    def lookup(self, text: str) -> EnvironmentRecord | None:
        """The mapped environment an ``environment:`` value names; None for a plain image name.

        A plain ``<name>:<version>`` that is mapped uses the mapping (so Azure's
        ``AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:9`` can be mapped); one that is not a valid Docker
        image name (capitals) must be mapped (``ResolveError`` otherwise).
        """
        record = self.resolve(text)
        plain = _PLAIN_ENV.match(text.strip())
        if record is None and plain:
            mapped = [r for r in self._mapped(plain["name"]) if r.version == plain["ver"]]
            if mapped:
                return mapped[0]
            if plain["name"] != plain["name"].lower() or _BUILTIN.match(plain["name"]):
                return self.get(plain["name"], plain["ver"])
        return record

    def image_for(self, text: str) -> str:
        """The local image an ``environment:`` value runs in (a mapped build's tag for a build)."""
        record = self.lookup(text)
        return record.image_name if record is not None else text.strip()

    def resolve_spec_environment(self, environment: str | InlineEnvironment,
                                 base_dir: Path | None = None) -> ResolvedEnvironment:
        """A job's environment: a reference or image name looked up here; ``file:<env.yml>`` read; an
        inline one as written (its ``build`` relative to ``base_dir``, the job's folder; a
        ``conda_file`` read into the image to build)."""
        folder = base_dir or Path.cwd()
        if isinstance(environment, str) and is_file_form(environment.strip()):  # an environment YAML
            environment = environment_file(environment, folder)
        if not isinstance(environment, str):
            return _inline(environment, folder)
        record = self.lookup(environment)
        if record is None:
            return ResolvedEnvironment(environment.strip())
        if record.conda_text is not None:  # what the inline {image, conda_file} builds
            return ResolvedEnvironment("", conda=_conda(record.conda_text, record.image,
                                                        source=f"{record.reference} (conda_file)"))
        return ResolvedEnvironment(record.image_name, build_context=record.build_context,
                                   dockerfile=record.dockerfile)

    def check(self, environment: str | InlineEnvironment, base_dir: Path | None = None) -> None:
        """What ``job validate`` refuses of an environment (a registered component is checked so too):
        a reference that is not mapped (or built in), an image name Docker would refuse."""
        resolved = self.resolve_spec_environment(environment, base_dir)
        for image in (resolved.image, resolved.conda.base_image if resolved.conda else ""):
            if image:
                check_image_reference(image)

    def get_ref(self, ref: EnvironmentRef) -> EnvironmentRecord:
        try:
            return self.get(ref.name, ref.version)
        except ResolveError as exc:
            raise ResolveError(f"environment '{ref}' is not mapped to a local image; "
                               f"{_known(self._mapped())}",
                               hint="map it with: " + create_command(ref.name, ref.version),
                               python_hint="map it with: " + create_call(ref.name, ref.version)) from exc


def _inline(environment: InlineEnvironment, base_dir: Path) -> ResolvedEnvironment:
    if environment.build is not None:
        context = (base_dir / environment.build.path).resolve()
        return ResolvedEnvironment("", build_context=str(context),
                                   dockerfile=environment.build.dockerfile_path)
    if environment.conda_file is not None:
        return ResolvedEnvironment("", conda=load_conda_file(environment, base_dir))
    return ResolvedEnvironment(environment.image or "")


def _replace(path: Path, data: bytes) -> None:
    """``path`` holds ``data``, replaced in one step (no staging file is left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        staging.write_bytes(data)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def _put_back(path: Path, earlier: bytes | None) -> None:
    """A side file as it was before a create whose transaction failed (``earlier`` None: none)."""
    try:
        if earlier is None:
            path.unlink(missing_ok=True)
        else:
            _replace(path, earlier)
    except OSError as exc:  # the create's own error is the one to report
        logger.warning("could not put back %s after a failed environment create: %s", path, exc)


# what `environment list` shows; the workspace spellings (AzureML-sklearn-1.x-ubuntu..-cpu) resolve too
BUILTIN_NAMES = tuple(f"sklearn-1.{minor}" for minor in range(5, -1, -1)) + ("AzureML-sklearn-1.5",)


def curated_sklearn(name: str) -> str | None:
    """The scikit-learn of the curated environment ``name`` when the provisioned image has another
    (``sklearn-1.0``: ``"1.0"``), else None."""
    minor = re.search(r"sklearn-1\.(\d)", name)
    return None if minor is None or minor[1] == "5" else f"1.{minor[1]}"


def builtin_record(name: str, version: str | None) -> EnvironmentRecord:
    """A curated environment the provisioned image holds (any version or label)."""
    curated = curated_sklearn(name)
    older = f"; the curated one has scikit-learn {curated}" if curated else ""
    return EnvironmentRecord(name=name, version=version or "latest", image=PROVISIONED_IMAGE,
                             description=_BUILTIN_NOTE.format(older=older), builtin=True)


def create_command(name: str, version: str | None) -> str:
    flag = f" --version {version}" if version else ""
    return (f"`runner environment create --name {name}{flag} --image <local-image>` "
            f"(e.g. --image runner/python:3.11), or --build-context <dir> to build one")


def create_call(name: str, version: str | None) -> str:
    """``create_command`` in the Python API's words."""
    given = f", version='{version}'" if version else ""
    return (f"`ml_client.environments.create_or_update(name='{name}'{given}, image='<local-image>')` "
            "(e.g. image='runner/python:3.11'), or build_context='<dir>' to build one")


def _known(records: list[EnvironmentRecord]) -> str:
    if not records:
        return "no environments are mapped in this workspace"
    return "mapped environments: " + ", ".join(f"{r.name}:{r.version}" for r in records[:20])


def _check(name: str, image: str | None, build_context: str | Path | None) -> None:
    if not asset_name_re().match(name):
        raise SpecError(f"invalid environment name {name!r}", field="name",
                        hint="use letters, digits, '-', '_' and '.'")
    if bool(image) == bool(build_context):
        raise SpecError("give exactly one of --image or --build-context", field="image",
                        hint="--image runner/python:3.11, or --build-context ./env [--dockerfile F]",
                        python_message="give exactly one of image= or build_context=",
                        python_hint="image='runner/python:3.11', or build_context='./env' [dockerfile='F']")
    if image:
        check_image_reference(image, field="image")
    if build_context and not Path(build_context).expanduser().is_dir():
        raise SpecError(f"build context {build_context} is not a folder", field="build_context")


def _needs_image(image: str | None) -> str:
    if not image:
        raise SpecError("an environment's conda_file needs an image to install its packages on",
                        field="conda_file", hint="give image: runner/python:3.11 (or another local image "
                                                 "with Python); a build context installs its packages "
                                                 "in its Dockerfile")
    return image


def _conda(text: str, image: str | None, *, source: str) -> CondaSpec:
    """The conda file text of a registered environment, read as the inline form's is."""
    return conda_spec(load_yaml_text(text).data, base_image=_needs_image(image), source=source)


def read_conda_file(conda_file: str | dict[str, Any], *, image: str | None, base_dir: Path) -> str:
    """The text to register of a conda file (a path relative to ``base_dir``, or a mapping), checked
    as a job's inline one is (errors say where in the conda file)."""
    if isinstance(conda_file, dict):
        load_conda_file(InlineEnvironment(image=_needs_image(image), conda_file=conda_file), base_dir)
        return _yaml_text(conda_file)
    path = local_file(conda_file, base_dir, "conda_file").resolve()  # file:///x, file://localhost/x: /x
    if not path.is_file():  # not there: exit 1, as a job's missing conda_file; a folder: malformed (2)
        raise not_found_kind(path)(f"no conda file at {path}", field="conda_file",
                                   hint=f"give the conda environment file (a relative path is read from the "
                                        f"current folder, {base_dir}), or create the file")
    load_conda_file(InlineEnvironment(image=_needs_image(image), conda_file=str(path)), base_dir)
    return path.read_text(encoding="utf-8")


def _yaml_text(mapping: dict[str, Any]) -> str:
    text = io.StringIO()
    dump_yaml(mapping, text)
    return text.getvalue()
