"""The UI's output download (``/jobs/<job>/outputs/<output>/download``) of an Azure output (Azurite) in which
a blob with a ``..`` segment was planted (Azure keeps ``..\\..\\pwned.txt`` as ``../../pwned.txt``) answers
with the one error the CLI prints (the blob, why, how to fix it) on its error page, not a bare 500 with a
traceback in the server log; nothing is written out of the UI's scratch folder. Everything in the test's
throwaway workspace and container."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ui_support import Browserless, LiveUI, submit_job, wait_for


def test_an_output_download_over_a_dotdot_blob_answers_with_the_error(live_ui: LiveUI, tmp_path: Path,
                                                                      azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    from runner.workspace.datastores import load_datastore

    client, az = live_ui.client, azure_container.azurite
    store = tmp_path / "az.yml"
    store.write_text(f"name: az\ntype: azure_blob\naccount_name: {az.account}\n"
                     f"container_name: {azure_container.name}\naccount_url: {az.blob_endpoint}\n"
                     f"credentials:\n  account_key: {az.key}\n")
    client.datastores.create_or_update(load_datastore(store))
    submit_job(client, tmp_path, "dotsui", """
        command: echo ok > ${{outputs.u}}/ok.txt
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/o/u"}
        """)
    job = wait_for(client, "dotsui", {"Completed", "Failed"})
    assert job.status.value == "Completed", job.error
    container = ContainerClient.from_connection_string(az.connection_string, azure_container.name)
    container.upload_blob("o/u/..\\..\\pwned.txt", b"PWNED")  # stored as o/u/../../pwned.txt
    status, page = Browserless(live_ui.address).get("/jobs/dotsui/outputs/u/download")
    text = html.unescape(page)
    assert status >= 400 and "Internal Server Error" not in page, (status, page[:500])
    blob = f"{azure_container.name}/o/u/../../pwned.txt"
    assert f"'{blob}' in the storage cannot be downloaded: its name has a '..' segment, which would " \
           "resolve outside the folder" in text, text[:2000]
    assert "rename or delete that blob in the storage" in text and "Traceback" not in text
    assert list(tmp_path.rglob("pwned.txt")) == []
