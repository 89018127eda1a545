"""The fork server's warm-up list names modules that exist: a renamed module fails here, instead of
being skipped by the server at run time (where it would only make every command slower)."""

from __future__ import annotations

import importlib

import pytest

from runner.cli.main import WARM_MODULES


@pytest.mark.parametrize("name", WARM_MODULES)
def test_every_warm_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_the_warm_list_covers_the_job_path() -> None:
    """What ``job create --stream`` runs through is warmed (the lifecycle, both backends, upload)."""
    for needed in ("runner.cli.job", "runner.jobs.submit", "runner.jobs.run", "runner.backends.docker",
                   "mounts.upload"):
        assert needed in WARM_MODULES
