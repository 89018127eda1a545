"""The UI over HTTP (no browser) shows a job whose upload output held a file name that is not valid UTF-8
(``printf 'bad\\377name'``, written by a host-process job to an Azure Blob datastore on Azurite): the
job's pages and its API answer, and name the file with its byte escaped (``bad\\xffname``); on a local
datastore the job completes and its output downloads as a zip. Everything
in the test's throwaway workspace and container."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI, submit_job, wait_for

SHOWN = "bad\\xffname"


def test_the_job_pages_show_a_name_that_is_not_utf8(live_ui: LiveUI, tmp_path: Path,
                                                     azure_container: Any) -> None:
    from runner.workspace.datastores import load_datastore

    client, az = live_ui.client, azure_container.azurite
    store = tmp_path / "az.yml"
    store.write_text(f"name: az\ntype: azure_blob\naccount_name: {az.account}\n"
                     f"container_name: {azure_container.name}\naccount_url: {az.blob_endpoint}\n"
                     f"credentials:\n  account_key: {az.key}\n")
    client.datastores.create_or_update(load_datastore(store))
    submit_job(client, tmp_path, "badui", """
        command: >-
          echo 1 > "${{outputs.u}}/$(printf 'bad\\377name')"; echo ok > ${{outputs.u}}/ok.txt
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/o/u"}
        """)
    job = wait_for(client, "badui", {"Completed", "Failed"})
    assert job.status.value == "Failed" and SHOWN in job.error and "internal error" not in job.error
    web = Browserless(live_ui.address)
    for path in ("/jobs", "/jobs/badui", "/jobs/badui/overview", "/api/jobs"):
        status, text = web.get(path)
        assert status == 200, (path, status, text[:500])
    status, page = web.get("/jobs/badui")
    assert "its name is not valid UTF-8" in page and SHOWN in page
    error = web.json("/api/jobs/badui")["job"]["error"]
    assert f"not transferred: {SHOWN}" in error and "internal error" not in error


def test_an_output_holding_such_a_name_downloads_from_the_ui(live_ui: LiveUI, tmp_path: Path) -> None:
    """On a local datastore the job completes; its output downloads as a zip whose member shows the
    name's byte escaped (a zip's names are UTF-8 text)."""
    client = live_ui.client
    submit_job(client, tmp_path, "badlocal", """
        command: >-
          echo 1 > "${{outputs.u}}/$(printf 'bad\\377name')"; echo ok > ${{outputs.u}}/ok.txt
        outputs:
          u: {type: uri_folder, mode: upload}
        """)
    job = wait_for(client, "badlocal", {"Completed", "Failed"})
    assert job.status.value == "Completed", job.error
    web = Browserless(live_ui.address)
    for path in ("/jobs/badlocal", "/jobs/badlocal/overview"):
        status, text = web.get(path)
        assert status == 200, (path, status, text[:500])
    with web.opener.open(urllib.request.Request(live_ui.url + "/jobs/badlocal/outputs/u/download"),
                         timeout=30) as resp:
        assert resp.status == 200
        archive = zipfile.ZipFile(io.BytesIO(resp.read()))
    assert sorted(archive.namelist()) == [SHOWN, "ok.txt"]  # the name as the record shows it
    assert archive.read(SHOWN) == b"1\n"
