"""How long the SAS a ``direct`` input gets stays valid: a margin after the job's ``limits.timeout``
when it has one, a day without one (``runner.jobs.direct_creds.sas_validity``). The job prints only the
SAS's expiry (its ``se=`` field), never the SAS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, write_job

from runner.jobs.direct_creds import DEFAULT_SAS_S, MAX_SAS_S, SAS_MARGIN_S, sas_validity

pytestmark = [pytest.mark.azure]

# prints the expiry of every SAS the job was given, and nothing else of it
PRINT_EXPIRY = """python -c "
import os, re, urllib.parse
se = r'(?:^|[?&\\x22])se=([^&\\x22]+)'
found = {urllib.parse.unquote(m) for v in os.environ.values() for m in re.findall(se, v)}
print('SAS expiry', sorted(found))
" """


def _expiries(stdout: str) -> list[datetime]:
    line = next(line for line in stdout.splitlines() if line.startswith("SAS expiry"))
    values = json.loads(line.removeprefix("SAS expiry ").replace("'", '"'))
    return [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values]


@pytest.mark.parametrize(("limits", "valid"), [("limits: {timeout: 600}\n", 600 + SAS_MARGIN_S),
                                               ("", DEFAULT_SAS_S)])
def test_a_direct_input_sas_expires_a_margin_after_the_job_timeout(
        workspace_dir: Path, tmp_path: Path, azure_container: Any, limits: str, valid: float) -> None:
    from azure.storage.blob import ContainerClient

    ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                           azure_container.name).upload_blob("data/a.txt", b"a")
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    job = write_job(tmp_path, f"command: {json.dumps(PRINT_EXPIRY)}\n"
                              "inputs:\n  d: {type: uri_folder, path: 'azureml://datastores/az/paths/data', "
                              "mode: direct}\n"
                              f"{limits}compute: local-process\nenvironment:\n  image: runner/python:3.11\n")
    before = datetime.now(UTC)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream")
    after = datetime.now(UTC)
    assert result.returncode == 0, result.stdout + result.stderr
    expiries = _expiries(result.stdout)
    assert len(expiries) == 1, expiries
    lower = before + timedelta(seconds=valid) - timedelta(seconds=5)  # se= has whole seconds
    assert lower <= expiries[0] <= after + timedelta(seconds=valid), (expiries, valid)


def test_sas_validity() -> None:
    assert sas_validity(None) == DEFAULT_SAS_S == 24 * 3600
    assert sas_validity(60) == 60 + SAS_MARGIN_S
    assert sas_validity(30 * 24 * 3600) == MAX_SAS_S == 7 * 24 * 3600  # never more than a week
