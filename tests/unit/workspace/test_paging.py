"""Paged, filtered listings in SQL (models, jobs), the lineage index of the jobs that read a model, and
a model version's files: what the web UI and scripts read through the client's operations."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.client import MLClient
from runner.jobs.operations import JobOperations
from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, Workspace, utcnow
from runner.workspace.paging import MAX_PAGE_SIZE, Page, window
from runner.workspace.schema import SCHEMA_VERSION


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    return MLClient(workspace_dir=tmp_path / "ws")


def _register(client: MLClient, tmp_path: Path, name: str, *, tags: dict[str, str] | None = None,
              content: bytes = b"w") -> Model:
    src = tmp_path / "src" / uuid.uuid4().hex
    src.mkdir(parents=True)
    (src / "model.pkl").write_bytes(content)
    return client.models.create(Model(name=name, path=str(src), tags=tags or {}))


def test_window_clamps_offset_and_size() -> None:
    assert window(None, None) == (0, 50)
    assert window(-5, 0) == (0, 50)
    assert window(10, 10_000) == (10, MAX_PAGE_SIZE)
    page = Page(items=[1, 2], offset=2, limit=2, total=5)
    assert page.has_more and page.next_offset == 4 and page.previous_offset == 0
    last = Page(items=[5], offset=4, limit=2, total=5)
    assert not last.has_more and last.next_offset is None and last.previous_offset == 2


def test_model_page_latest_per_name_filters_and_paging(client: MLClient, tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma", "Beta-two"):
        _register(client, tmp_path, name, tags={"stage": "dev"})
    _register(client, tmp_path, "beta", tags={"stage": "prod", "owner": "ana"})  # beta:2
    page = client.models.page(limit=2)
    assert [m.name for m in page.items] == ["Beta-two", "alpha"] and page.total == 4 and page.has_more
    page2 = client.models.page(offset=2, limit=2)
    assert [(m.name, m.version) for m in page2.items] == [("beta", "2"), ("gamma", "1")]
    assert not page2.has_more
    assert [m.name for m in client.models.page(name_contains="BETA").items] == ["Beta-two", "beta"]
    # the tag filter looks at each model's latest version
    assert [m.name for m in client.models.page(tag="stage=prod").items] == ["beta"]
    assert [m.name for m in client.models.page(tag="owner").items] == ["beta"]
    assert [m.name for m in client.models.page(tag="stage=dev").items] == ["Beta-two", "alpha", "gamma"]
    versions = client.models.page("beta")
    assert [m.version for m in versions.items] == ["2", "1"] and versions.total == 2


def test_model_page_archived_views_match_list(client: MLClient, tmp_path: Path) -> None:
    _register(client, tmp_path, "a")
    _register(client, tmp_path, "a")
    _register(client, tmp_path, "b")
    client.models.archive("a", version="2")
    client.models.archive("b")
    assert [(m.name, m.version) for m in client.models.page().items] == [("a", "1")]
    assert [(m.name, m.version, m.archived) for m in client.models.page(include_archived=True).items] == \
        [("a", "2", True), ("b", "1", True)]
    assert [(m.name, m.version) for m in client.models.page(archived_only=True).items] == \
        [("a", "2"), ("b", "1")]
    for kwargs in ({}, {"include_archived": True}, {"archived_only": True}):
        listed = [(m.name, m.version) for m in client.models.list(**kwargs)]  # type: ignore[arg-type]
        assert [(m.name, m.version) for m in client.models.page(**kwargs).items] == listed  # type: ignore[arg-type]


def test_registry_namespace_pages_its_own_models(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    shared = MLClient(workspace_dir=ws_dir, registry_name="shared")
    own = MLClient(workspace_dir=ws_dir)
    _register(shared, tmp_path, "m")
    _register(own, tmp_path, "other")
    assert [m.name for m in shared.models.page().items] == ["m"]
    assert [m.name for m in shared.models.page(name_contains="shared").items] == []
    assert [m.name for m in own.models.page().items] == ["other"]


def test_model_files_with_sizes(client: MLClient, tmp_path: Path) -> None:
    src = tmp_path / "mlflow"
    (src / "sub").mkdir(parents=True)
    (src / "MLmodel").write_text("flavors: {}\n")
    (src / "sub" / "weights.bin").write_bytes(b"x" * 1234)
    client.models.create(Model(name="m", path=str(src), type="mlflow_model"))
    files, more = client.models.files("m", "1")
    assert [(f.path, f.size) for f in files] == [("MLmodel", 12), ("sub/weights.bin", 1234)] and not more
    files, more = client.models.files("m", "1", limit=1)
    assert len(files) == 1 and more
    single = tmp_path / "one.pkl"
    single.write_bytes(b"abc")
    client.models.create(Model(name="f", path=str(single)))
    assert [(f.path, f.size) for f in client.models.files("f")[0]] == [("one.pkl", 3)]


def _job(ws: Workspace, name: str, *, minutes_ago: int, status: JobStatus = JobStatus.COMPLETED,
         experiment: str | None = None, backend: str = "docker", reads: tuple[str, ...] = (),
         reads_data: tuple[tuple[str, str], ...] = ()) -> None:
    inputs: list[dict[str, Any]] = [{"name": f"in{i}", "cache_key": key} for i, key in enumerate(reads)]
    inputs += [{"name": f"data{i}", "cache_key": f"workspaceblobstore:DataUpload/{n}/{v}/f.csv:mtime:1",
                "asset": {"kind": "data", "name": n, "version": v}}  # as a plan stores a data input
               for i, (n, v) in enumerate(reads_data)]
    inputs.append({"name": "data", "cache_key": None})  # a plain folder input: not an asset
    ws.create_job(JobRecord(name=name, status=status, experiment_name=experiment, backend=backend,
                            created_at=utcnow() - timedelta(minutes=minutes_ago),
                            extra={"plan": {"inputs": inputs}}))


def test_job_page_filters_and_orders_newest_first(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    for i in range(7):
        _job(ws, f"job-{i}", minutes_ago=10 - i, experiment="exp-a" if i % 2 else "exp-b",
             backend="process" if i < 3 else "docker",
             status=JobStatus.FAILED if i == 5 else JobStatus.COMPLETED)
    ops = JobOperations(ws)
    page = ops.page(limit=3)
    assert [j.name for j in page.items] == ["job-6", "job-5", "job-4"] and page.total == 7
    assert [j.name for j in ops.page(offset=6, limit=3).items] == ["job-0"]
    assert [j.name for j in ops.page(status="Failed").items] == ["job-5"]
    assert [j.name for j in ops.page(experiment_name="exp-a").items] == ["job-5", "job-3", "job-1"]
    assert [j.name for j in ops.page(compute="process").items] == ["job-2", "job-1", "job-0"]
    assert [j.name for j in ops.page(name_contains="B-4").items] == ["job-4"]
    assert ops.page(status="Failed", compute="process").total == 0


def test_jobs_reading_a_model_through_the_lineage_index(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "reads-m1", minutes_ago=3, reads=("model:m:1",))
    _job(ws, "reads-m2-and-n", minutes_ago=2, reads=("model:m:2", "model:n:7"))
    _job(ws, "reads-other", minutes_ago=1, reads=("model:mm:1",))
    _job(ws, "reads-registry", minutes_ago=0, reads=("model:shared/m:1",))
    ops = JobOperations(ws)
    assert [j.name for j in ops.page(reads_model=("m", None)).items] == ["reads-m2-and-n", "reads-m1"]
    assert [j.name for j in ops.page(reads_model=("m", "1")).items] == ["reads-m1"]
    assert [j.name for j in ops.page(reads_model=("n", "7")).items] == ["reads-m2-and-n"]
    assert [j.name for j in ops.page(reads_model=("shared/m", "1")).items] == ["reads-registry"]
    assert ops.page(reads_model=("nothing", None)).total == 0


def test_jobs_reading_a_data_asset_through_the_lineage_index(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "reads-d1", minutes_ago=4, reads_data=(("d", "1"),))
    _job(ws, "reads-d2-and-e", minutes_ago=3, reads_data=(("d", "2"), ("e", "7")))
    _job(ws, "reads-model-d", minutes_ago=2, reads=("model:d:1",))  # a model of the same name
    _job(ws, "reads-registry-d", minutes_ago=1, reads_data=(("shared/d", "1"),))
    ops = JobOperations(ws)
    assert [j.name for j in ops.page(reads_data=("d", None)).items] == ["reads-d2-and-e", "reads-d1"]
    assert [j.name for j in ops.page(reads_data=("d", "1")).items] == ["reads-d1"]
    assert [j.name for j in ops.page(reads_data=("e", "7")).items] == ["reads-d2-and-e"]
    assert [j.name for j in ops.page(reads_data=("shared/d", "1")).items] == ["reads-registry-d"]
    assert [j.name for j in ops.page(reads_model=("d", None)).items] == ["reads-model-d"]
    assert ops.page(reads_data=("nothing", None)).total == 0


def test_a_version_5_workspace_gets_its_data_readers_indexed_keeping_the_rest(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "old", minutes_ago=2, reads=("model:m:1",), reads_data=(("d", "3"),))
    _job(ws, "older", minutes_ago=3, reads_data=(("d", "1"),))
    with ws.transaction() as conn:  # as schema 5 left it: model inputs indexed, data inputs not
        conn.execute("DELETE FROM job_asset_inputs WHERE kind = 'data'")
        before = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    with ws.reading() as conn:
        conn.execute("PRAGMA user_version=5")
    reopened = Workspace(tmp_path / "ws")
    assert [r.name for r in reopened.page_jobs(reads=("data", "d", None)).items] == ["old", "older"]
    with reopened.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # migrated
        rows = conn.execute("SELECT * FROM job_asset_inputs ORDER BY job_name, input_name").fetchall()
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == before == 2
    assert [tuple(r) for r in rows] == [("old", "data0", "data", "d", "3"), ("old", "in0", "model", "m", "1"),
                                        ("older", "data0", "data", "d", "1")]
    assert reopened.get_job("old").extra["plan"]["inputs"][0]["cache_key"] == "model:m:1"  # records kept


def test_a_version_2_workspace_gets_its_jobs_indexed_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    _job(ws, "old", minutes_ago=1, reads=("model:m:1",))
    with ws.transaction() as conn:  # as a workspace written before the lineage index existed
        conn.execute("DROP TABLE job_asset_inputs")
    with ws.reading() as conn:
        conn.execute("PRAGMA user_version=2")
    reopened = Workspace(tmp_path / "ws")
    assert [r.name for r in reopened.page_jobs(reads=("model", "m", "1")).items] == ["old"]
    with reopened.reading() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # migrated
        rows = conn.execute("SELECT * FROM job_asset_inputs").fetchall()
    assert [tuple(r) for r in rows] == [("old", "in0", "model", "m", "1")]


def test_refresh_marks_a_job_whose_runner_is_gone(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="ghost", status=JobStatus.RUNNING, backend="process",
                            runner_pid=2 ** 22 + 12345, created_at=utcnow() - timedelta(minutes=5)))
    ops = JobOperations.__new__(JobOperations)  # without the constructor's reconcile: refresh finds it
    ops.workspace = ws
    record = ops.refresh("ghost")
    assert record.status is JobStatus.FAILED and record.error
