"""The docs' Azurite datastore with its placeholder pasted as the key (``<Azurite's published development
key>``, not base64) is refused by ``runner datastore create``: exit 2, one error at the ``account_key``
line naming the field, the key never shown. A job over an ``abfs://`` URL read with
``AZURE_STORAGE_CONNECTION_STRING`` whose ``AccountKey=`` is not base64 fails with one clear error naming
that variable: not "denied by the storage service", not an internal error, no traceback, no key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, write_job

PLACEHOLDER = "<Azurite's published development key>"
SHOWN_NEVER = ("published development key", "Azurite's published")


def _assert_clean(shown: str) -> None:
    assert "Traceback" not in shown and "internal error" not in shown, shown
    for part in SHOWN_NEVER:
        assert part not in shown, shown


def test_datastore_create_refuses_a_key_that_is_not_base64(workspace_dir: Path, tmp_path: Path) -> None:
    datastore = write_job(tmp_path, f"""\
        name: azurite
        type: azure_blob
        account_name: devstoreaccount1
        container_name: models
        account_url: http://127.0.0.1:10000/devstoreaccount1
        credentials:
          account_key: {PLACEHOLDER}
        """, name="azurite.yml")
    ran = cli(workspace_dir, "datastore", "create", "--file", str(datastore))
    shown = ran.stdout + ran.stderr
    assert ran.returncode == 2, shown
    assert f"{datastore}:7:" in ran.stderr and "credentials.account_key" in ran.stderr, shown
    assert "base64" in ran.stderr and "Azurite's well-known key" in ran.stderr, shown
    assert ran.stderr.count("error:") == 1, shown
    _assert_clean(shown)
    listed = cli(workspace_dir, "datastore", "list", "-o", "json", check=True)
    assert '"azurite"' not in listed.stdout  # nothing was saved


@pytest.mark.azure
def test_a_job_over_abfs_with_a_bad_key_in_the_environment_is_one_clear_error(
        workspace_dir: Path, tmp_path: Path, azurite: Any) -> None:
    job = write_job(tmp_path, """\
        command: cat ${{inputs.d}}
        environment: python:3.11
        inputs:
          d: {type: uri_file, path: "abfs://c/a.txt", mode: download}
        """)
    env = {"AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName={azurite.account};"
                                              f"AccountKey={PLACEHOLDER};BlobEndpoint={azurite.blob_endpoint};"}
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process", env=env)
    shown = ran.stdout + ran.stderr
    assert ran.returncode != 0, shown
    assert "'abfs://c/a.txt'" in shown and "not base64" in shown, shown
    assert "AZURE_STORAGE_CONNECTION_STRING" in shown and "denied" not in shown, shown
    _assert_clean(shown)
