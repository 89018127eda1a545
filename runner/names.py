"""Job names: Azure-style generated names and the name rule."""

from __future__ import annotations

import re
import secrets

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$")

_ADJECTIVES = ("amber", "brave", "calm", "clever", "eager", "gentle", "happy", "keen", "lively", "mighty",
               "nifty", "patient", "quiet", "sharp", "silly", "tidy", "upbeat", "witty", "zen", "bold")
_NOUNS = ("apple", "brick", "cloud", "drum", "engine", "fern", "garden", "heart", "island", "kettle",
          "lemon", "monkey", "night", "orange", "pencil", "rocket", "river", "tree", "wolf", "yacht")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def generate_job_name() -> str:
    """An Azure-style job name: ``<adjective>_<noun>_<10 random characters>`` (e.g. ``calm_fern_0q2x..``)."""
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}_{tail}"


def is_valid_job_name(name: str) -> bool:
    return bool(JOB_NAME_PATTERN.match(name))
