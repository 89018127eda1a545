"""A job's page (and ``/api/jobs/<name>``) lists the models and data versions registered from its outputs,
by the registry's lineage (a version's ``job_name``): those the job registered itself as it ended, and
those registered afterwards from ``azureml://jobs/<job>/outputs/<output>`` (``runner model create``, the
Register form, ``ml_client.models.create_or_update``), each linked to its page; a pipeline's page lists
those of its steps' outputs too."""

from __future__ import annotations

from pathlib import Path

from ui_support import Browserless, LiveUI

from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord, JobStatus, utcnow


def _completed_job(live: LiveUI, name: str, parent: str | None = None) -> None:
    """A Completed job (a step of ``parent``) whose output ``o`` is on the workspace's default (local)
    datastore."""
    ws = live.client.workspace
    folder = Path(ws.root) / "datastores" / "workspaceblobstore" / "out" / name
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    ws.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, exit_code=0, created_at=utcnow(),
                            outputs={"o": f"azureml://datastores/workspaceblobstore/paths/out/{name}"},
                            spec={"outputs": {"o": {"type": "uri_folder", "mode": "upload"}},
                                  **({"parent_job_name": parent} if parent else {})}))


def test_a_version_registered_afterwards_from_an_output_is_on_the_jobs_page(live_ui: LiveUI) -> None:
    client = live_ui.client
    _completed_job(live_ui, "train")
    client.models.create_or_update(Model(name="trained", path="azureml://jobs/train/outputs/o"))
    client.data.create_or_update(Data(name="feats", path="azureml://jobs/train/outputs/o", type="uri_folder"))
    assert client.models.get("trained", version="1").job_name == "train"  # the registry's lineage
    web = Browserless(live_ui.address)
    job = web.json("/api/jobs/train")["job"]
    assert job["registered_models"] == [{"ref": "azureml:trained:1",
                                         "model": {"name": "trained", "version": "1"},
                                         "archived": False, "note": None}]
    assert job["registered_data"] == [{"ref": "azureml:feats:1", "data": {"name": "feats", "version": "1"},
                                       "archived": False, "note": None}]
    status, page = web.get("/jobs/train")
    assert status == 200
    assert 'href="/models/trained/versions/1"' in page and 'href="/data/feats/versions/1"' in page
    client.models.archive("trained", version="1")  # marked as the job's own registrations are
    assert web.json("/api/jobs/train")["job"]["registered_models"][0]["archived"] is True


def test_a_pipelines_page_lists_the_versions_registered_from_its_steps_outputs(live_ui: LiveUI) -> None:
    client = live_ui.client
    steps = {"fit": {"job": "pipe-fit", "status": "Completed"}}
    client.workspace.create_job(JobRecord(name="pipe", status=JobStatus.COMPLETED, created_at=utcnow(),
                                          spec={"type": "pipeline"}, extra={"steps": steps}))
    _completed_job(live_ui, "pipe-fit", parent="pipe")
    client.models.create_or_update(Model(name="fitted", path="azureml://jobs/pipe-fit/outputs/o"))
    web = Browserless(live_ui.address)
    for job in ("pipe", "pipe-fit"):
        assert [r["ref"] for r in web.json(f"/api/jobs/{job}")["job"]["registered_models"]] == \
            ["azureml:fitted:1"], job
    assert 'href="/models/fitted/versions/1"' in web.get("/jobs/pipe")[1]


def test_other_jobs_versions_are_not_listed(live_ui: LiveUI) -> None:
    client = live_ui.client
    _completed_job(live_ui, "one")
    _completed_job(live_ui, "two")
    client.models.create_or_update(Model(name="m", path="azureml://jobs/one/outputs/o"))
    web = Browserless(live_ui.address)
    assert web.json("/api/jobs/two")["job"]["registered_models"] == []
    assert 'id="registered-models"' not in web.get("/jobs/two")[1]
