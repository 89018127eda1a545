"""An error is copied (``located``) and pickled from its state, whatever its ``__init__`` takes."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from runner.backends.ray_jobs import RayHttpError
from runner.errors import JobFailedError, RunnerError, SourceLocation, SpecError
from runner.workspace.archive_members import ArchiveNotRead
from runner.workspace.datastores import UnknownDatastore

WHERE = SourceLocation(Path("job.yml"), 3, 7)


def _errors() -> list[RunnerError]:
    return [
        SpecError("bad", hint="fix it", field="inputs.x"),
        JobFailedError("job j Failed", job_name="j", status="Failed", hint="see its log"),
        RayHttpError("the dashboard answered 500", status=500, hint="look at the head node"),
        ArchiveNotRead("tar", "/tmp/x.tar", ValueError("truncated"), b"PK\x03\x04"),
    ]


@pytest.mark.parametrize("err", _errors(), ids=lambda e: type(e).__name__)
def test_located_keeps_the_kind_message_and_own_fields(err: RunnerError) -> None:
    located = err.located("inputs.m.path", WHERE)
    assert type(located) is type(err)
    assert (located.message, located.hint, located.args) == (err.message, err.hint, err.args)
    assert located.render().startswith(f"job.yml:3:7: inputs.m.path: {err.message}")
    assert {k: v for k, v in vars(located).items() if k not in ("field", "where")} == \
        {k: v for k, v in vars(err).items() if k not in ("field", "where")}
    assert err.where is None  # the original is left as it was


@pytest.mark.parametrize("err", _errors(), ids=lambda e: type(e).__name__)
def test_pickled_and_copied_errors_are_the_same_error(err: RunnerError) -> None:
    err = err.located("outputs.o", WHERE)
    for again in (pickle.loads(pickle.dumps(err)), copy.deepcopy(err)):
        assert type(again) is type(err)
        assert again.render() == err.render() and again.args == err.args
        assert vars(again) == vars(err)


@pytest.mark.parametrize("err", [*_errors(), UnknownDatastore("gone", ["workspaceblobstore"], hint="h",
                                                              python_hint="p")],
                         ids=lambda e: type(e).__name__)
def test_reworded_keeps_the_kind_and_its_own_fields(err: RunnerError) -> None:
    """A layer that adds to the message (a pipeline's ``step 's': ...``) keeps the error's kind and what its
    kind carries besides (it rebuilt it with ``type(err)(...)``: a TypeError for these)."""
    reworded = err.reworded(f"step 's': {err.message}", field="jobs.s.outputs.o", where=WHERE, hint="fix it")
    assert type(reworded) is type(err)
    assert reworded.render() == f"job.yml:3:7: jobs.s.outputs.o: step 's': {err.message}\n  hint: fix it"
    assert reworded.args == (f"step 's': {err.message}",)
    assert reworded.python_hint is None and reworded.python_message is None  # as the constructor's defaults
    own = {k: v for k, v in vars(err).items() if k not in vars(RunnerError("x"))}
    assert {k: getattr(reworded, k) for k in own} == own
