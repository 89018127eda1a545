"""The review's attack, end to end: a job on this machine's network reaches the UI on 127.0.0.1 (a
``process`` job; a docker job with a ``direct`` input on Azurite, a store on loopback, ran on the host
network too, before its store was relayed into a namespace of its own: it now reaches nothing but its
store). With a forged CSRF pair (a ``runner_csrf`` cookie and the same value as header or form field) and
no access token, everything the process job tries is a 401: it lists no job, downloads nothing, archives
nothing, registers nothing, cancels nothing; the docker job cannot even connect."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show
from ui_support import LiveUI

from runner.workspace.db import JobRecord, JobStatus, utcnow

PROBE = """
import json, sys, urllib.error, urllib.request

base = sys.argv[1]
forged = {"Cookie": "runner_csrf=x", "X-CSRF-Token": "x"}
form = {**forged, "Content-Type": "application/x-www-form-urlencoded"}
tries = [
    ("GET", "/api/jobs", {}, None),
    ("GET", "/jobs/vp-train/outputs/artifacts/download", {}, None),
    ("POST", "/jobs/vp-train/archive", forged, None),
    ("POST", "/jobs/vp-train/archive", form, b"csrf_token=x"),
    ("POST", "/jobs/vp-train/cancel", forged, None),
    ("POST", "/register/model", form,
     b"csrf_token=x&name=stolen&path=azureml%3A%2F%2Fjobs%2Fvp-train%2Foutputs%2Fartifacts"),
]
seen = []
for method, path, headers, body in tries:
    request = urllib.request.Request(base + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            seen.append([method, path, response.status])
    except urllib.error.HTTPError as err:
        seen.append([method, path, err.code])
    except OSError as err:
        seen.append([method, path, repr(err)])
print("PROBE " + json.dumps(seen))
"""


@pytest.mark.docker
@pytest.mark.azure
@pytest.mark.parametrize("compute", ["local-process", "docker"])
def test_a_job_on_the_host_network_gets_nothing_from_the_ui(
        live_ui: LiveUI, tmp_path: Path, azure_container: Any, docker_client: Any, compute: str) -> None:
    ws, client = live_ui.workspace, live_ui.client
    client.workspace.create_job(JobRecord(name="vp-train", status=JobStatus.COMPLETED, backend="process",
                                          created_at=utcnow(), job_dir=str(ws / "jobs" / "vp-train")))
    create_azure_datastore(ws, tmp_path, azure_container)
    from azure.storage.blob import ContainerClient

    ContainerClient.from_connection_string(azure_container.azurite.connection_string, azure_container.name) \
        .upload_blob("data/x.txt", b"x")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "probe.py").write_text(PROBE)
    job = tmp_path / "probe.yml"
    job.write_text(textwrap.dedent(f"""
        command: python probe.py {live_ui.url}
        code: src
        {"compute: local-process" if compute == "local-process" else ""}
        inputs:
          d: {{type: uri_folder, path: "azureml://datastores/az/paths/data", mode: direct}}
        environment:
          image: runner/python:3.11
        """).lstrip())
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    network = show(ws, "probe")["extra"]["network"]
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line.removeprefix("PROBE "))
    if compute == "local-process":
        assert network.startswith("the host's network")  # it can reach 127.0.0.1
        assert [status for _, _, status in seen] == [401] * 6, seen
    else:  # only its store, relayed: the UI is not there at all
        assert network.startswith(f"relayed to {azure_container.azurite.host}:{azure_container.azurite.port}")
        assert all("Connection refused" in str(status) for _, _, status in seen), seen
    assert client.jobs.get("vp-train").archived is False and client.jobs.get("vp-train").status.value == \
        "Completed"
    assert list(client.models.list()) == []
