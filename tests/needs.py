"""What a test needs that may be missing here: a service, a package, root. Locally a missing need skips
with a message saying how to provide it; under ``CI=true`` it fails (and ``conftest.py`` turns any other
skip into a failure too): a test that CI did not run is a test that did not pass.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROVISION_HINT = "run `bash scripts/provision.sh` to install and start Docker, FUSE support and Azurite"


def missing(message: str) -> NoReturn:
    """Skip (locally) or fail (in CI) with ``message``: something the test needs is not here."""
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def missing_service(what: str) -> NoReturn:
    """Skip (locally) or fail (in CI) because ``what`` is not available."""
    missing(f"{what} is not available: {PROVISION_HINT}")


def require_module(name: str, why: str) -> ModuleType:
    """Import ``name``; when it is not installed, skip locally and fail in CI (never a silent skip)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        missing(f"{name} is not installed ({why}): pip install -e '.[dev]' ({exc})")


def require_root(why: str) -> None:
    """The test needs root (``why``): skip locally, fail in CI when the suite runs as another user."""
    if os.geteuid() != 0:
        missing(f"needs root: {why}; run the suite as root (CI does)")
