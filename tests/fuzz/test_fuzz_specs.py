"""Fuzzed job and model files (tests/fuzz/fuzz_corpus.py), each through what ``job validate``, ``job
create`` and ``model create`` do before anything runs (issue 20). For every case:

- no traceback: the answer is a plan, a registered model, or one ``RunnerError`` rendered as one
  clear message (what, where, how to fix);
- no hang: each case is bounded (pytest-timeout);
- no acceptance of what must fail (a NUL in a name, ``..`` out of a datastore, an alias bomb...);
- whatever validate accepts, create accepts (in a fresh workspace: nothing local changed);
- a refused model leaves no copy behind, and no YAML tag runs anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_corpus import PWNED, Case, job_cases, model_cases, prepare_root

from runner.errors import RunnerError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.spec.load import load_job_spec
from runner.spec.model import load_model
from runner.workspace.db import Workspace
from runner.workspace.registry import ModelRegistry

JOBS = job_cases()
MODELS = model_cases()
MAX_MESSAGE = 4000  # a clear message, not an echo of a huge value


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzz")
    prepare_root(folder)
    for case in JOBS + MODELS:
        (folder / f"{case.name}.yml").write_bytes(case.content)
    yield folder
    assert not Path(PWNED).exists(), "a fuzzed file ran a command"


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Workspace]:
    """One workspace that validates every case, one that creates them (each under its own name:
    nothing a case does changes what the next one meets)."""
    folder = tmp_path_factory.mktemp("fuzz-ws")
    return Workspace(folder / "validate"), Workspace(folder / "create")


def _validate(ws: Workspace, path: Path) -> RunnerError | None:
    """``job validate``: load, plan, the checks create makes before it queues."""
    try:
        spec = load_job_spec(path)
        check_submission(spec, plan_job(spec, workspace=ws, job_name=spec.name or "fuzzed"), backend=None)
    except RunnerError as err:
        return err
    return None


def _create(ws: Workspace, path: Path, name: str) -> RunnerError | None:
    """``job create`` up to the Queued record (nothing runs)."""
    try:
        submit_job(ws, load_job_spec(path), name=name)
    except RunnerError as err:
        return err
    return None


def _check_message(case: Case, err: RunnerError) -> None:
    text = err.render()
    assert text.strip() and "Traceback" not in text, case.name
    assert len(text) < MAX_MESSAGE, f"{case.name}: a {len(text)}-character message"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", JOBS, ids=[c.name for c in JOBS])
def test_fuzzed_job_file(case: Case, root: Path, workspaces: tuple[Workspace, Workspace]) -> None:
    path = root / f"{case.name}.yml"
    refused = _validate(workspaces[0], path)
    created = _create(workspaces[1], path, f"c{JOBS.index(case)}")
    for err in (refused, created):
        if err is not None:
            _check_message(case, err)
    if case.must_fail:
        assert refused is not None, f"{case.name}: validate accepted it ({case.must_fail})"
        assert created is not None, f"{case.name}: create accepted it ({case.must_fail})"
    if refused is None:  # whatever validate accepts, create accepts
        assert created is None, f"{case.name}: validate accepted it, create refused it: {created}"


def _model_files(ws: Workspace) -> list[Path]:
    return [p for p in ws.root.rglob("*") if "LocalUpload" in p.parts and p.is_file()]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", MODELS, ids=[c.name for c in MODELS])
def test_fuzzed_model_file(case: Case, root: Path, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    try:
        created = ModelRegistry(ws).create(load_model(root / f"{case.name}.yml"))
    except RunnerError as err:
        _check_message(case, err)
        assert _model_files(ws) == [], f"{case.name}: refused, but a copy was left behind"
        return
    assert not case.must_fail, f"{case.name}: registered {created.name}:{created.version} ({case.must_fail})"
    assert created.name and created.version
