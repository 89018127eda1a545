"""The web UI over HTTP: a job's (and a pipeline's) registered versions say when they are archived, and
a pipeline step reused from an earlier run is listed among the readers of what that run read."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI, model_folder, submit_job, wait_for

from runner.spec.data import Data
from runner.spec.model import Model


def _registered_row(text: str, label: str) -> str:
    """The overview's row of registered models or data (its cell, up to the end of the row)."""
    match = re.search(rf"<th>{label}</th>(.*?)</tr>", text, re.S)
    assert match, text[:2000]
    return match.group(1)


def _seed(client: Any, tmp_path: Path, *, archive: bool) -> None:
    folder = model_folder(tmp_path / "seed", {"a.txt": b"a"})
    client.models.create(Model(name="clf", path=str(folder)))
    client.data.create(Data(name="feats", path=str(folder), type="uri_folder"))
    if archive:
        client.models.archive("clf")
        client.data.archive("feats")


def test_a_job_page_marks_the_versions_it_registered_that_are_archived(live_ui: LiveUI,
                                                                       tmp_path: Path) -> None:
    client = live_ui.client
    _seed(client, tmp_path, archive=True)
    submit_job(client, tmp_path, "reg", """
        command: echo m > ${{outputs.m}}/model.txt && echo d > ${{outputs.d}}/data.txt
        outputs:
          m: {type: custom_model, name: clf}
          d: {type: uri_folder, name: feats}
        """)
    wait_for(client, "reg", {"Completed"})
    assert "azureml:clf:2" in client.workspace.get_job("reg").extra["registered_archived"]
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs/reg")["job"]
    [model], [data] = view["registered_models"], view["registered_data"]
    assert model["ref"] == "azureml:clf:2" and model["archived"] is True
    assert "model 'clf' is archived" in model["note"]
    assert data["ref"] == "azureml:feats:2" and data["archived"] is True
    assert "data asset 'feats' is archived" in data["note"]
    status, text = web.get("/jobs/reg")
    assert status == 200
    for label in ("Registered models", "Registered data"):
        assert '<span class="badge archived"' in _registered_row(text, label), label

    # the mark follows the registry: restored, it goes (and the note with it); archived again, it is back
    client.models.restore("clf")
    client.models.restore("clf", version="2")
    model = web.json("/api/jobs/reg")["job"]["registered_models"][0]
    assert model["archived"] is False and model["note"] is None
    assert "badge archived" not in _registered_row(web.get("/jobs/reg")[1], "Registered models")
    assert web.json("/api/jobs/reg")["job"]["registered_data"][0]["archived"] is True
    client.models.archive("clf", version="2")
    assert web.json("/api/jobs/reg")["job"]["registered_models"][0]["archived"] is True


def test_a_job_page_does_not_mark_versions_that_are_not_archived(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    _seed(client, tmp_path, archive=False)
    submit_job(client, tmp_path, "plain", """
        command: echo m > ${{outputs.m}}/model.txt
        outputs:
          m: {type: custom_model, name: clf}
        """)
    wait_for(client, "plain", {"Completed"})
    web = Browserless(live_ui.address)
    [model] = web.json("/api/jobs/plain")["job"]["registered_models"]
    assert model == {"ref": "azureml:clf:2", "model": {"name": "clf", "version": "2"}, "archived": False,
                     "note": None}
    assert "badge archived" not in _registered_row(web.get("/jobs/plain")[1], "Registered models")


def _pipeline(client: Any, tmp_path: Path, name: str, body: str) -> Any:
    from runner import load_job

    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(body).lstrip())
    client.jobs.create_or_update(load_job(path), name=name)
    return wait_for(client, name, {"Completed", "Failed"})


def test_a_pipelines_registered_versions_are_marked_archived(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    _seed(client, tmp_path, archive=True)
    done = _pipeline(client, tmp_path, "pipe", """
        type: pipeline
        settings: {default_compute: local-process}
        jobs:
          train:
            type: command
            command: echo m > ${{outputs.m}}/model.txt && echo d > ${{outputs.d}}/data.txt
            environment: {image: unused:1}
            outputs:
              m: {type: custom_model, name: clf}
              d: {type: uri_folder, name: feats}
        """)
    assert done.status.value == "Completed"
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs/pipe")["job"]
    assert [(r["ref"], r["archived"]) for r in view["registered_models"]] == [("azureml:clf:2", True)]
    assert [(r["ref"], r["archived"]) for r in view["registered_data"]] == [("azureml:feats:2", True)]
    assert "model 'clf' is archived" in view["registered_models"][0]["note"]
    status, text = web.get("/jobs/pipe")
    assert status == 200
    for label in ("Registered models", "Registered data"):
        assert '<span class="badge archived"' in _registered_row(text, label), label


REUSING = """
    type: pipeline
    settings: {default_compute: local-process}
    jobs:
      look:
        type: command
        command: ls ${{inputs.m}} ${{inputs.d}}
        environment: {image: unused:1}
        inputs:
          m: {type: custom_model, path: azureml:m:1}
          d: {type: uri_folder, path: azureml:d@latest}
    """


def test_a_reused_step_is_listed_as_reading_what_its_earlier_step_read(live_ui: LiveUI,
                                                                       tmp_path: Path) -> None:
    client = live_ui.client
    folder = model_folder(tmp_path / "m", {"a.txt": b"a"})
    client.models.create(Model(name="m", path=str(folder)))
    client.data.create(Data(name="d", path=str(folder), type="uri_folder"))
    client.data.create(Data(name="d", path=str(folder), type="uri_folder", description="2"))
    for name in ("first", "again"):
        assert _pipeline(client, tmp_path, name, REUSING).status.value == "Completed"
    steps = {name: client.workspace.get_job(name).extra["steps"]["look"] for name in ("first", "again")}
    assert "reused_from" not in steps["first"] and steps["again"]["reused_from"] == steps["first"]["job"]
    web = Browserless(live_ui.address)
    expected = [(steps["again"]["job"], ["1"]), (steps["first"]["job"], ["1"])]  # newest first
    assert [(r["name"], r["versions"]) for r in web.json("/api/models/m/versions/1")["read_by"]] == expected
    expected = [(steps["again"]["job"], ["2"]), (steps["first"]["job"], ["2"])]
    assert [(r["name"], r["versions"]) for r in web.json("/api/data/d")["read_by"]] == expected
    status, text = web.get("/models/m/versions/1")
    assert status == 200 and f'href="/jobs/{steps["again"]["job"]}"' in text
