"""Names: Azure-style generated job names, the job-name rule, a job's default experiment, and the asset
name and version rules (models, data, environments, registries)."""

from __future__ import annotations

import math
import re
import secrets
from pathlib import Path

from runner.errors import SpecError
from runner.lazy_re import on_first_use
from runner.url_secrets import without_secrets

# Azure ML allows 255 characters; here a job's artifacts live in ``ExperimentRun/dcid.<name>``, one
# folder name of at most 255 bytes, so 250
MAX_JOB_NAME = 250
job_name_re = on_first_use(rf"^[a-zA-Z0-9][a-zA-Z0-9_-]{{0,{MAX_JOB_NAME - 1}}}$")
# models, environments, registries
asset_name_re = on_first_use(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")
asset_version_re = on_first_use(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
MAX_NUMERIC_VERSION = 2**63 - 2  # versions are numbered in a 64-bit integer (and the next one must fit)
LATEST_LABEL = "latest"  # the one label: an asset's newest version, never a version of its own
VERSION_HINT = "use a number such as 1, or omit version to get the next one"
DEFAULT_EXPERIMENT = "Default"  # azure.ai.ml's, when the current folder has no name


def default_experiment_name() -> str:
    """The experiment of a job submitted without one, as azure.ai.ml's ``generate_defaults``: the name of
    the folder it is submitted from (``Path("./").resolve().stem``, spaces removed), else ``Default``."""
    try:
        return Path("./").resolve().stem.replace(" ", "") or DEFAULT_EXPERIMENT
    except OSError:  # the current folder was removed
        return DEFAULT_EXPERIMENT


def version_text(value: object) -> object:
    """A version written as a number, as text (``3`` -> ``"3"``); ``ValueError`` for true/false and
    for .inf/.nan, which YAML reads as numbers but are no version."""
    if isinstance(value, bool):
        raise ValueError("a version is a number or a short name, not true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a version is a number or a short name, not {value}")
    return str(value) if isinstance(value, int | float) else value


def check_label(label: str | None, *, noun: str, name: str, cli: str, sdk: str | None = None) -> None:
    """Refuse any label but ``latest`` (the only one, as in Azure ML): bad input, whichever asset kind
    (``noun``: model, data asset, environment, component; ``cli``: its ``runner <cli>`` group; ``sdk``: its
    ``ml_client.<sdk>``, for the hint in the Python API's words)."""
    if label is None or label == LATEST_LABEL:
        return
    python = None if sdk is None else (
        f"the only label is '{LATEST_LABEL}' (the newest version): `ml_client.{sdk}.get('{name}', "
        f"label='{LATEST_LABEL}')`, or version='<version>' (`ml_client.{sdk}.list(name='{name}')` lists "
        "them)")
    raise SpecError(f"unknown label '{label}' for {noun} '{name}'",
                    hint=f"the only label is '{LATEST_LABEL}' (the newest version): give --label "
                         f"{LATEST_LABEL}, or --version <version> (`runner {cli} list --name {name}` lists "
                         "them)", python_hint=python)


def version_problem(version: str) -> str | None:
    """What is wrong with ``version`` as an asset version (None when nothing is)."""
    if not asset_version_re().match(version):
        return f"invalid version {version!r}"
    if version.lower() == LATEST_LABEL:  # else get(version="latest") and get(label="latest") would differ
        return f"'{version}' is a label, not a version: it always names the newest version (<name>@latest)"
    if version.isdigit() and int(version) > MAX_NUMERIC_VERSION:
        return f"version {version} is too large (a numeric version is at most {MAX_NUMERIC_VERSION})"
    return None

_ADJECTIVES = ("amber", "brave", "calm", "clever", "eager", "gentle", "happy", "keen", "lively", "mighty",
               "nifty", "patient", "quiet", "sharp", "silly", "tidy", "upbeat", "witty", "zen", "bold")
_NOUNS = ("apple", "brick", "cloud", "drum", "engine", "fern", "garden", "heart", "island", "kettle",
          "lemon", "monkey", "night", "orange", "pencil", "rocket", "river", "tree", "wolf", "yacht")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def generate_job_name() -> str:
    """An Azure-style job name: ``<adjective>_<noun>_<10 random characters>`` (e.g. ``calm_fern_0q2x..``)."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}_{tail}"


JOB_NAME_HINT = "use letters, digits, '-' and '_', starting with a letter or digit"


def is_valid_job_name(name: str) -> bool:
    return bool(job_name_re().match(name))


def job_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a job name (None when nothing is)."""
    if is_valid_job_name(name):
        return None
    if len(name) > MAX_JOB_NAME and is_valid_job_name(name[:MAX_JOB_NAME]):
        return f"the job name is {len(name)} characters long; at most {MAX_JOB_NAME} are allowed here"
    return f"'{without_secrets(name)}' is not a valid job name"  # never a secret written by mistake


def check_job_name(name: str, field: str, *, python_field: str | None = None) -> None:
    """Raise the one ``SpecError`` for a bad job name, naming the ``field`` it came from (``python_field``:
    the field for a Python caller, where ``field`` is a flag)."""
    problem = job_name_problem(name)
    if problem:
        raise SpecError(problem, field=field, hint=JOB_NAME_HINT, python_field=python_field)


# a pipeline step's name (a key of jobs:): ${{parent.jobs.<step>...}} names it, as an input/output name
step_name_re = on_first_use(r"^[a-zA-Z_][a-zA-Z0-9_-]{0,254}$")


def step_name_problem(value: str) -> tuple[str, str] | None:
    """Why ``value`` is not a step name, and a hint with a fixed name (None: it is one). Pure, so the
    CLI can import this module without pydantic (``runner.spec.pipeline.StepName`` validates with it)."""
    if step_name_re().match(value):
        return None
    fixed = re.sub(r"[^a-zA-Z0-9_-]+", "_", value).strip("_")[:255] or "step"
    fixed = fixed if re.match(r"[a-zA-Z_]", fixed) else f"_{fixed}"
    return (f"'{value}' is not a valid step name",
            f"a step name is letters, digits, '_' and '-' (at most 255), starting with a letter or '_' "
            f"(no dots or spaces), e.g. {fixed}")
