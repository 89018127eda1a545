"""Names: Azure-style generated job names, the job-name rule, and the asset name and version rules
(models, data, environments, registries)."""

from __future__ import annotations

import re
import secrets

from runner.errors import SpecError

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$")
ASSET_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")  # models, environments, registries
ASSET_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")

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
    return bool(JOB_NAME_PATTERN.match(name))


def job_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a job name (None when nothing is)."""
    return None if is_valid_job_name(name) else f"'{name}' is not a valid job name"


def check_job_name(name: str, field: str) -> None:
    """Raise the one ``SpecError`` for a bad job name, naming the ``field`` it came from."""
    problem = job_name_problem(name)
    if problem:
        raise SpecError(problem, field=field, hint=JOB_NAME_HINT)
