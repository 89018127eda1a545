"""``ml_client.jobs.archive(name)`` / ``restore(name)``, as azure-ai-ml's: an archived job (a command job
or a pipeline, in any status, a running one too) is hidden from ``jobs.list()`` unless
``list_view_type`` is ``ArchivedOnly`` or ``All``; ``restore`` brings it back; the flag survives the
job's own later writes. An unknown attribute of ``ml_client.jobs`` names ``JobOperations`` (azure.ai.ml's
class) and the close attribute."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner import MLClient
from runner.constants import ListViewType
from runner.errors import ResolveError, RunnerError
from runner.pipelines.operations import PipelineJobOperations
from runner.workspace.db import JobRecord, JobStatus, Workspace


def _ops(tmp_path: Path) -> PipelineJobOperations:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="old", status=JobStatus.COMPLETED))
    ws.create_job(JobRecord(name="run", status=JobStatus.RUNNING, runner_pid=os.getpid()))
    ws.create_job(JobRecord(name="pipe", status=JobStatus.COMPLETED, spec={"type": "pipeline"}))
    ws.create_job(JobRecord(name="pipe-step", status=JobStatus.COMPLETED, spec={"parent_job_name": "pipe"}))
    return PipelineJobOperations(ws)


def _names(jobs: object) -> set[str]:
    return {j.name for j in jobs}  # type: ignore[attr-defined]


def test_an_archived_job_is_hidden_from_list(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    assert ops.archive("old") is None  # type: ignore[func-returns-value]  # as azure.ai.ml's
    assert _names(ops.list()) == {"run", "pipe"}
    assert _names(ops.list(list_view_type=ListViewType.ARCHIVED_ONLY)) == {"old"}
    assert _names(ops.list(list_view_type=ListViewType.ALL)) == {"old", "run", "pipe"}
    assert ops.get("old").archived and not ops.get("run").archived
    ops.restore("old")
    assert _names(ops.list()) == {"old", "run", "pipe"}
    assert not ops.get("old").archived
    assert _names(ops.list(list_view_type=ListViewType.ARCHIVED_ONLY)) == set()


def test_azures_own_list_view_type_and_its_text_work(tmp_path: Path) -> None:
    from azure.ai.ml.constants import ListViewType as AzureListViewType  # slow: only here

    ops = _ops(tmp_path)
    ops.archive("pipe")
    assert _names(ops.list(list_view_type=AzureListViewType.ARCHIVED_ONLY)) == {"pipe"}
    assert _names(ops.list(list_view_type=AzureListViewType.ACTIVE_ONLY)) == {"old", "run"}
    assert _names(ops.list(list_view_type="All")) == {"old", "run", "pipe"}
    assert _names(ops.list(list_view_type="archivedonly")) == {"pipe"}


def test_a_pipelines_steps_are_listed_under_it_archived_or_not(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    ops.archive("pipe")
    assert _names(ops.list(parent_job_name="pipe")) == {"pipe-step"}


def test_max_results_counts_the_jobs_of_the_view(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    ops.archive("pipe")  # the newest top-level job
    assert _names(ops.list(max_results=1)) == {"run"}
    assert _names(ops.list(max_results=1, list_view_type="All")) == {"pipe"}


def test_a_running_job_can_be_archived_and_its_own_writes_keep_the_flag(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    ops.archive("run")
    assert ops.get("run").status is JobStatus.RUNNING
    ops.workspace.update_job("run", status=JobStatus.COMPLETED, extra={"x": 1})  # the runner ends it
    record = ops.workspace.get_job("run")
    assert record.archived and record.status is JobStatus.COMPLETED
    assert "run" not in _names(ops.list())


def test_archiving_twice_or_restoring_an_active_job_is_no_error(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    ops.archive("old")
    ops.archive("old")
    ops.restore("run")
    assert _names(ops.list(list_view_type="ArchivedOnly")) == {"old"}


def test_page_hides_archived_jobs_unless_asked(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    ops.archive("old")
    assert _names(ops.page().items) == {"run", "pipe", "pipe-step"} and ops.page().total == 3
    assert _names(ops.page(list_view_type="ArchivedOnly").items) == {"old"}
    assert ops.page(list_view_type="All").total == 4


def test_an_unknown_job_is_one_error(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    for action in (ops.archive, ops.restore):
        with pytest.raises(ResolveError) as raised:
            action("nope")
        assert "unknown job 'nope'" in raised.value.message


def test_an_unknown_list_view_type_is_one_error(tmp_path: Path) -> None:
    ops = _ops(tmp_path)
    with pytest.raises(RunnerError) as raised:
        ops.list(list_view_type="ArchivedOnyl")
    err = raised.value
    assert "ArchivedOnyl" in err.message and "ArchivedOnly" in err.message and err.hint


def test_an_older_record_without_the_flag_is_active(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = JobRecord(name="legacy", status=JobStatus.COMPLETED)
    ws.create_job(record)
    with ws.transaction() as conn:  # as a runner before archiving wrote it: no "archived" key
        conn.execute("UPDATE jobs SET record = ? WHERE name = ?",
                     (record.model_dump_json(exclude={"archived"}), "legacy"))
    ops = PipelineJobOperations(ws)
    assert _names(ops.list()) == {"legacy"} and not ops.get("legacy").archived
    ops.archive("legacy")
    assert _names(ops.list()) == set()


def test_ml_client_jobs_has_archive_and_restore(tmp_path: Path) -> None:
    client = MLClient(workspace_dir=tmp_path / "ws")
    client.jobs.workspace.create_job(JobRecord(name="j1", status=JobStatus.FAILED))
    client.jobs.archive(name="j1")
    assert list(client.jobs.list()) == []
    client.jobs.restore(name="j1")
    assert _names(client.jobs.list()) == {"j1"}


def test_an_unknown_attribute_names_job_operations_and_the_close_one(tmp_path: Path) -> None:
    jobs = MLClient(workspace_dir=tmp_path / "ws").jobs
    with pytest.raises(AttributeError) as raised:
        jobs.archve("j1")  # type: ignore[attr-defined]
    text = str(raised.value)
    assert "'JobOperations'" in text and "'archve'" in text and "did you mean 'archive'" in text, text
    assert "PipelineJobOperations" not in text
    assert not hasattr(jobs, "no_such_thing")
    with pytest.raises(AttributeError):
        jobs._private_probe  # noqa: B018
