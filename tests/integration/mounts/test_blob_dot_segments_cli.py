"""Blob names on Azurite that no path below a folder can hold, through the real CLI.

- A job (a host process) writes ``..\\..\\..\\vp-train\\model\\weights.txt`` into an ``upload`` output on
  Azure, which would store it as ``o/u/../../../vp-train/model/weights.txt``: it is left out, named in one
  warning (the job Completes, as with a left-out link); ``ok.txt`` is uploaded.
- A blob planted with a ``..`` segment (Azure keeps ``..\\..\\pwned.txt`` as ``../../pwned.txt``) in that
  output, or under a data asset's folder: ``job download`` / ``data download`` exit 1 with one error
  naming the blob, why and how to fix it, no traceback; nothing is written, in the download folder or
  out of it; a job with a ``download`` input of that asset ends Failed with that message, not an internal
  error.
- Blobs ``coll/x`` and ``coll/x/y`` (a file and a folder of one name): ``data download`` names both and
  says no rerun can succeed (not "check that the storage is reachable").

Everything in the test's throwaway workspace, folders and container."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, write_job

pytestmark = pytest.mark.azure

HOST = "compute: local-process\nenvironment: {image: 'host:1'}\n"
AZ = "azureml://datastores/az/paths"


def _container(azure_container: Any) -> Any:
    from azure.storage.blob import ContainerClient

    return ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                  azure_container.name)


def _host_job(folder: Path, body: str, name: str = "job.yml") -> Path:
    """``body`` (job YAML, indented as the test writes it) run as a host process, no container."""
    return write_job(folder, textwrap.dedent(body).lstrip() + HOST, name=name)


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir())


def _refused(result: Any, blob: str) -> str:
    """The one error of a refused download: exit 1, the blob named with why and the fix, no traceback."""
    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err and "internal error" not in err and "refusing unsafe" not in err, err
    assert f"'{blob}' in the storage cannot be downloaded: its name has a '..' segment" in err, err
    assert "outside the folder" in err and "rename or delete that blob in the storage" in err, err
    assert "reachable" not in err and "resumes" not in err, err
    return str(err)


def test_an_upload_leaves_out_a_name_azure_would_store_with_dotdot_and_the_job_completes(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    job = _host_job(tmp_path, f"""
        command: >-
          mkdir -p ${{{{outputs.u}}}} &&
          echo w > "${{{{outputs.u}}}}/..\\\\..\\\\..\\\\vp-train\\\\model\\\\weights.txt" &&
          echo ok > ${{{{outputs.u}}}}/ok.txt
        outputs:
          u: {{type: uri_folder, mode: upload, path: "{AZ}/o/u"}}
        """)
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "dots")
    assert result.returncode == 0, result.stdout + result.stderr
    record = show(ws, "dots")
    assert record["status"] == "Completed" and record["error"] is None
    [note] = [w for w in record["extra"].get("warnings", []) if "not uploaded" in w]
    assert "1 file not uploaded: ..\\..\\..\\vp-train\\model\\weights.txt (Azure Blob Storage would " \
           "store it as ../../../vp-train/model/weights.txt: a '..' segment" in note
    assert [blob.name for blob in _container(azure_container).list_blobs()] == ["o/u/ok.txt"]


def test_a_job_download_of_an_output_holding_a_dotdot_blob_is_one_clear_error(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    job = _host_job(tmp_path, f"""
        command: echo ok > ${{{{outputs.u}}}}/ok.txt
        outputs:
          u: {{type: uri_folder, mode: upload, path: "{AZ}/o/u"}}
        """)
    cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "planted", check=True)
    planted = "o/u/..\\..\\pwned.txt"  # Azure stores it as o/u/../../pwned.txt
    _container(azure_container).upload_blob(planted, b"PWNED")
    box = tmp_path / "box"
    result = cli(ws, "job", "download", "--name", "planted", "--output-name", "u", "--download-path",
                 str(box / "dl"))
    _refused(result, f"{azure_container.name}/o/u/../../pwned.txt")
    assert _files_under(box) == []  # nothing written: not ok.txt, not the planted blob, not elsewhere
    assert [p for p in tmp_path.rglob("pwned.txt")] == []


def _asset_over(ws: Path, tmp_path: Path, azure_container: Any, blobs: dict[str, bytes],
                folder: str) -> None:
    create_azure_datastore(ws, tmp_path, azure_container)
    container = _container(azure_container)
    for name, data in blobs.items():
        container.upload_blob(name, data)
    cli(ws, "data", "create", "--name", "odd", "--type", "uri_folder", "--path", f"{AZ}/{folder}", check=True)


def test_a_data_download_over_a_dotdot_blob_is_one_clear_error(workspace_dir: Path, tmp_path: Path,
                                                               azure_container: Any) -> None:
    ws = workspace_dir
    blobs = {"d/ok.txt": b"ok", "d/evil/..\\..\\pwned2.txt": b"PWNED"}
    _asset_over(ws, tmp_path, azure_container, blobs, "d")
    assert "d/evil/../../pwned2.txt" in [b.name for b in _container(azure_container).list_blobs()]
    box = tmp_path / "box"
    result = cli(ws, "data", "download", "--name", "odd", "--version", "1", "--download-path",
                 str(box / "dl"))
    _refused(result, f"{azure_container.name}/d/evil/../../pwned2.txt")
    assert _files_under(box) == [] and [p for p in tmp_path.rglob("pwned2.txt")] == []
    reader = _host_job(tmp_path, """
        command: ls ${{inputs.d}}
        inputs:
          d: {type: uri_folder, mode: download, path: "azureml:odd:1"}
        """, name="reader.yml")
    result = cli(ws, "job", "create", "--stream", "--file", str(reader), "--name", "reader")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stdout + result.stderr
    record = show(ws, "reader")
    assert record["status"] == "Failed" and "internal error" not in record["error"], record["error"]
    assert "pwned2.txt' in the storage cannot be downloaded: its name has a '..' segment" in record["error"]
    assert [p for p in tmp_path.rglob("pwned2.txt")] == []


def test_a_file_and_a_folder_of_one_name_are_named_both_and_no_rerun_is_promised(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    ws = workspace_dir
    _asset_over(ws, tmp_path, azure_container, {"coll/x": b"a file", "coll/x/y": b"in a folder"},
                "coll")
    box = tmp_path / "box"
    result = cli(ws, "data", "download", "--name", "odd", "--version", "1", "--download-path",
                 str(box / "dl"))
    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err and "internal error" not in err, err
    name = azure_container.name
    assert f"'{name}/coll/x' and '{name}/coll/x/y' in the storage cannot both be downloaded" in err, err
    assert "a file and a folder at once" in err and "no rerun can succeed while both exist" in err, err
    assert "rename or delete one of them in the storage" in err, err
    assert "reachable" not in err and "resumes" not in err, err
    assert _files_under(box) == []
