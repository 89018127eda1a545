"""The web UI over HTTP, continued: the JSON API's parameter checks, a model or data version's readers,
outputs that were never uploaded, what a job's page shows of its tags, description and data assets, the
data asset pages, and the jobs list's polling while a listed job is active."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from ui_support import Browserless, LiveUI, model_folder, submit_job, wait_for

from runner.spec.data import Data
from runner.spec.model import Model


def _bad(web: Browserless, path: str) -> dict[str, Any]:
    status, text = web.get(path)
    assert status == 400, (path, status, text[:300])
    return dict(json.loads(text))


def test_the_api_refuses_what_it_would_ignore(live_ui: LiveUI) -> None:
    web = Browserless(live_ui.address)
    live_ui.client.models.create(Model(name="m", path=str(model_folder(live_ui.workspace.parent / "m"))))
    assert web.json("/api/jobs?status=failed")["filters"]["status"] == "Failed"  # any case: one status
    body = _bad(web, "/api/jobs?status=bogus")
    assert body["parameter"] == "status" and body["value"] == "bogus"
    assert "Failed" in body["allowed"] and "'status'" in body["error"] and "bogus" in body["error"]
    assert _bad(web, "/api/jobs?compute=gpu")["allowed"] == ["", "docker", "process"]
    assert _bad(web, "/api/jobs?offset=abc")["parameter"] == "offset"
    assert _bad(web, "/api/jobs?offset=-3")["parameter"] == "offset"
    body = _bad(web, "/api/jobs?stauts=Failed")  # a misspelt parameter is not silently dropped
    assert body["parameter"] == "stauts" and "status" in body["allowed"]
    assert _bad(web, "/api/models?archived=yes")["allowed"] == ["", "include", "only"]
    assert _bad(web, "/api/models?offset=1.5")["parameter"] == "offset"
    assert _bad(web, "/api/models/m?readers_offset=x")["parameter"] == "readers_offset"
    assert _bad(web, "/api/models/m/versions/1?versions_offset=x")["parameter"] == "versions_offset"
    assert _bad(web, "/api/data?archived=all")["parameter"] == "archived"
    for path in ("/api", "/api/jobs/x", "/api/datastores", "/api/datastores/x", "/api/environments"):
        assert _bad(web, path + "?filter=1")["parameter"] == "filter", path
    assert web.json("/api/models?archived=include&offset=0&name=m&tag=")["page"]["total"] == 1
    status, text = web.get("/jobs?status=bogus")  # a page says it too
    assert status == 400 and "bogus" in text


def test_a_model_versions_readers_are_the_jobs_that_read_that_version(live_ui: LiveUI,
                                                                      tmp_path: Path) -> None:
    client = live_ui.client
    for _ in range(13):
        client.models.create(Model(name="clf", path=str(model_folder(tmp_path / "clf"))))
    submit_job(client, tmp_path, "latest-and-10", """
        command: ls ${{inputs.a}} ${{inputs.b}} && echo w > ${{outputs.o}}/w
        inputs:
          a: {type: custom_model, path: azureml:clf@latest}
          b: {type: custom_model, path: azureml:clf:10}
        outputs:
          o: {type: custom_model, name: clf}
        """)
    wait_for(client, "latest-and-10", {"Completed"})  # registers clf:14
    submit_job(client, tmp_path, "reads-2", """
        command: ls ${{inputs.a}}
        inputs:
          a: {type: custom_model, path: azureml:clf:2}
        """)
    wait_for(client, "reads-2", {"Completed"})
    web = Browserless(live_ui.address)

    def readers(path: str) -> list[str]:
        return sorted(r["name"] for r in web.json(path)["read_by"])

    assert readers("/api/models/clf/versions/2") == ["reads-2"]
    assert readers("/api/models/clf/versions/13") == ["latest-and-10"]
    assert readers("/api/models/clf/versions/10") == ["latest-and-10"]
    assert readers("/api/models/clf/versions/3") == readers("/api/models/clf/versions/14") == []
    assert readers("/api/models/clf") == ["latest-and-10", "reads-2"]  # the model: every version's readers
    status, text = web.get("/models/clf/versions/2")
    read_by = text.split('id="read-by"', 1)[1].split("</table>", 1)[0]
    assert status == 200 and "reads-2" in read_by and "latest-and-10" not in read_by


def test_a_data_versions_readers_are_the_jobs_that_read_that_version(live_ui: LiveUI,
                                                                     tmp_path: Path) -> None:
    client = live_ui.client
    folder = model_folder(tmp_path / "d", {"a.txt": b"a"})
    for _ in range(3):
        client.data.create(Data(name="d", path=str(folder), type="uri_folder"))
    client.models.create(Model(name="d", path=str(model_folder(tmp_path / "m"))))  # same name, a model
    submit_job(client, tmp_path, "latest-and-1", """
        command: ls ${{inputs.a}} ${{inputs.b}} ${{inputs.m}}
        inputs:
          a: {type: uri_folder, path: azureml:d@latest}
          b: {type: uri_folder, path: azureml:d:1}
          m: {type: custom_model, path: azureml:d:1}
        """)
    wait_for(client, "latest-and-1", {"Completed"})
    client.data.create(Data(name="d", path=str(folder), type="uri_folder"))  # d:4, after the job ran
    submit_job(client, tmp_path, "reads-2", """
        command: ls ${{inputs.a}}
        inputs:
          a: {type: uri_folder, path: azureml:d:2}
        """)
    wait_for(client, "reads-2", {"Completed"})
    web = Browserless(live_ui.address)

    def readers(path: str) -> list[tuple[str, list[str]]]:
        return sorted((r["name"], r["versions"]) for r in web.json(path)["read_by"])

    assert readers("/api/data/d/versions/3") == [("latest-and-1", ["1", "3"])]  # @latest: 3 when it ran
    assert readers("/api/data/d/versions/1") == [("latest-and-1", ["1", "3"])]
    assert readers("/api/data/d/versions/2") == [("reads-2", ["2"])]
    assert readers("/api/data/d/versions/4") == []
    assert [r[0] for r in readers("/api/data/d")] == ["latest-and-1", "reads-2"]  # any version
    assert readers("/api/models/d/versions/1") == [("latest-and-1", ["1"])]  # the model is its own
    status, text = web.get("/data/d/versions/1")
    read_by = text.split('id="read-by"', 1)[1].split("</table>", 1)[0]
    assert status == 200 and "latest-and-1" in read_by and "reads-2" not in read_by
    status, text = web.get("/data/d")
    read_by = text.split("<h3>Read by", 1)[1].split("</table>", 1)[0]
    assert status == 200 and "(any version)" in read_by and "latest-and-1" in read_by and "reads-2" in read_by
    status, text = web.get("/data/d/versions/4")
    assert status == 200 and "No job has read this version." in text


def test_a_pipeline_steps_data_inputs_are_read_by_the_step_jobs(live_ui: LiveUI, tmp_path: Path) -> None:
    from runner import load_job

    client = live_ui.client
    folder = model_folder(tmp_path / "d", {"a.txt": b"a"})
    for _ in range(2):
        client.data.create(Data(name="d", path=str(folder), type="uri_folder"))
    (tmp_path / "p.yml").write_text(textwrap.dedent("""
        type: pipeline
        inputs:
          table: {type: uri_folder, path: azureml:d@latest}
        settings: {default_compute: local-process}
        jobs:
          look:
            type: command
            command: ls ${{inputs.t}} ${{inputs.first}}
            environment: {image: unused:1}
            inputs:
              t: ${{parent.inputs.table}}
              first: {type: uri_folder, path: azureml:d:1}
        """))
    pipeline = client.jobs.create_or_update(load_job(tmp_path / "p.yml"), name="pipe")
    wait_for(client, pipeline.name, {"Completed"})
    step = client.workspace.get_job("pipe").extra["steps"]["look"]["job"]
    web = Browserless(live_ui.address)
    for version in ("1", "2"):
        read_by = web.json(f"/api/data/d/versions/{version}")["read_by"]
        assert [(r["name"], r["versions"]) for r in read_by] == [(step, ["1", "2"])]


def _kill_runner(client: Any, name: str) -> None:
    deadline = time.monotonic() + 30
    while not (client.workspace.job_dir(name).outputs / "out").exists() or \
            client.jobs.get(name).status.value != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.5)  # the file is written
    os.kill(client.workspace.get_job(name).runner_pid, signal.SIGKILL)
    while client.jobs.refresh(name).status.value == "Running":  # until it is found dead
        assert time.monotonic() < deadline
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["runner-killed", "no-upload-on-failure"])
def test_an_output_never_uploaded_shows_where_it_is_kept(live_ui: LiveUI, tmp_path: Path, how: str) -> None:
    client = live_ui.client
    if how == "runner-killed":
        submit_job(client, tmp_path, "j", """
            command: echo hi > ${{outputs.out}}/f.txt && sleep 60
            outputs:
              out: {type: uri_folder}
            """)
        _kill_runner(client, "j")
        job = client.jobs.refresh("j")
    else:
        from runner import load_job

        (tmp_path / "j.yml").write_text("command: echo hi > ${{outputs.out}}/f.txt && exit 3\n"
                                        "outputs:\n  out: {type: uri_folder}\n"
                                        "compute: local-process\nenvironment:\n  image: host:1\n")
        client.jobs.create_or_update(load_job(tmp_path / "j.yml"), name="j", upload_on_failure=False)
        job = wait_for(client, "j", {"Failed"})
    assert job.status.value == "Failed"
    kept = str(client.workspace.job_dir("j").outputs / "out")
    web = Browserless(live_ui.address)
    out = next(o for o in web.json("/api/jobs/j")["outputs"] if o["name"] == "out")
    assert out["uploaded"] is False and out["kept_at"].startswith(kept), out  # (out/staged when held back)
    status, text = web.get("/jobs/j")
    row = text.split('data-output="out"', 1)[1].split("</tr>", 1)[0]
    assert status == 200 and "not uploaded" in row and kept in row and "download" not in row.lower()
    status, text = web.get("/jobs/j/outputs/out/download")
    assert status == 404 and "--output-name" not in text and "was not uploaded" in text and kept in text


def test_a_jobs_page_shows_tags_description_and_data_assets(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    folder = model_folder(tmp_path / "d", {"a.txt": b"a"})
    client.data.create(Data(name="d", path=str(folder), type="uri_folder"))
    client.data.create(Data(name="d", path=str(folder), type="uri_folder", description="second"))
    submit_job(client, tmp_path, "uses-data", """
        command: ls ${{inputs.x}} && echo hi > ${{outputs.o}}/f.txt
        description: trains on <d>
        tags: {team: vision, run: "3"}
        inputs:
          x: {type: uri_folder, path: azureml:d@latest}
        outputs:
          o: {type: uri_folder, name: outd}
        """)
    wait_for(client, "uses-data", {"Completed"})
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs/uses-data")
    assert view["job"]["tags"] == {"team": "vision", "run": "3"}
    assert view["job"]["description"] == "trains on <d>"
    assert view["job"]["registered_data"] == [{"ref": "azureml:outd:1",
                                               "data": {"name": "outd", "version": "1"},
                                               "archived": False, "note": None}]
    assert view["inputs"][0]["data"] == {"name": "d", "version": "2"}
    status, text = web.get("/jobs/uses-data")
    assert status == 200 and "trains on &lt;d&gt;" in text and "team=vision" in text
    assert 'href="/data/outd/versions/1"' in text and 'href="/data/d/versions/2"' in text
    assert "azureml:d:2" in text and "(azureml:d@latest)" in text
    status, text = web.get("/data")
    assert status == 200 and 'data-data="d"' in text and 'data-data="outd"' in text
    status, text = web.get("/data/d/versions/1")
    assert status == 200 and "a.txt" in text and 'id="versions"' in text
    page = web.json("/api/data/d")
    assert page["data_asset"]["version"] == "2" and page["data_asset"]["description"] == "second"
    assert web.json("/api/data/outd")["produced_by"] == "uses-data"
    status, text = web.get("/api/data/nope")
    assert status == 404 and "nope" in json.loads(text)["error"]


def test_the_jobs_list_polls_while_a_listed_job_is_active(live_ui: LiveUI, tmp_path: Path) -> None:
    go = tmp_path / "go"
    submit_job(live_ui.client, tmp_path, "waits", f"command: while [ ! -f {go} ]; do sleep 0.1; done\n")
    wait_for(live_ui.client, "waits", {"Running"})
    web = Browserless(live_ui.address)
    try:
        status, text = web.get("/jobs?name=wai")
        assert status == 200 and 'hx-trigger="every' in text and 'hx-get="/jobs?name=wai"' in text
        status, text = web.get("/jobs?name=wai", **{"HX-Request": "true", "HX-Target": "jobs-table"})
        assert status == 200 and "<html" not in text and 'id="jobs-table"' in text and "Running" in text
    finally:
        go.touch()  # the job ends whatever happened
    wait_for(live_ui.client, "waits", {"Completed"})
    status, text = web.get("/jobs?name=wai", **{"HX-Request": "true", "HX-Target": "jobs-table"})
    assert "Completed" in text and "hx-trigger" not in text  # nothing active: the polling stops
