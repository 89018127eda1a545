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


def test_the_warm_up_builds_the_models_commands_build_at_first_use() -> None:
    """A model that waits for its first use (``defer_build``: ``job validate`` builds none of the job
    records') is built once in the fork server, not again in every command it forks."""
    from pydantic import BaseModel

    from runner.cli.main import _complete_models
    from runner.workspace.job_records import JobRecord

    _complete_models()
    pending: list[type[BaseModel]] = [BaseModel]
    waiting = []
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("runner.") and not model.__pydantic_complete__:
            waiting.append(model.__name__)
    assert JobRecord.__pydantic_complete__ and waiting == []
