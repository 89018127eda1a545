"""No secret of an Azure datastore appears anywhere but in the workspace's credential store: not in the
CLI's output (with ``--debug`` too), not in a job's logs (its std_log, the background worker's runner.log),
not in job, model or datastore records, not in error messages. For each kind of credential: an account
key, a SAS token, a connection string. The jobs use the datastore in every mode (download, ro_mount and
direct inputs; upload, rw_mount and direct outputs: each direct URL opened with its own
``AZURE_ML_*_<name>_STORAGE_OPTIONS``, as two datastores' credentials cannot share adlfs's variables),
once in the foreground with ``--debug`` and once in
the background, and a job and a model fail on paths that do not exist.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, wait_for_status, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.fuse]

JOB = """
    command: >-
      python -c "import fsspec, json, os, sys;
      opts = lambda v: json.loads(os.environ.get(v + '_STORAGE_OPTIONS', '{}'));
      fs, p = fsspec.core.url_to_fs(sys.argv[1], **opts('AZURE_ML_INPUT_direct'));
      print('direct in:', sorted(fs.ls(p, detail=False)));
      fs, p = fsspec.core.url_to_fs(sys.argv[2], **opts('AZURE_ML_OUTPUT_dout'));
      fs.pipe_file(p.rstrip('/') + '/d.txt', b'direct')"
      ${{inputs.direct}} ${{outputs.dout}} &&
      cat ${{inputs.dl}}/a.txt ${{inputs.ro}}/a.txt &&
      echo up > ${{outputs.up}}/u.txt && echo rw > ${{outputs.rw}}/r.txt
    inputs:
      dl: {type: uri_folder, path: "azureml://datastores/secret/paths/data", mode: download}
      ro: {type: uri_folder, path: "azureml://datastores/secret/paths/data", mode: ro_mount}
      direct: {type: uri_folder, path: "azureml://datastores/{reader}/paths/data", mode: direct}
    outputs:
      up: {type: uri_folder, mode: upload, path: "azureml://datastores/secret/paths/out/up"}
      rw: {type: uri_folder, mode: rw_mount, path: "azureml://datastores/secret/paths/out/rw"}
      dout: {type: uri_folder, mode: direct, path: "azureml://datastores/secret/paths/out/direct"}
    environment:
      image: runner/python:3.11
    """

MISSING = """
    command: cat ${{inputs.m}}/a.txt
    inputs:
      m: {type: uri_folder, path: "azureml://datastores/secret/paths/no/such/folder", mode: download}
    environment:
      image: runner/busybox:latest
    """


def _sas(azure_container: Any, *, write: bool) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    permission = ContainerSasPermissions(read=True, list=True, write=write, delete=write, add=write,
                                         create=write)
    return generate_container_sas(
        azure_container.azurite.account, azure_container.name, account_key=azure_container.azurite.key,
        permission=permission, expiry=datetime.now(UTC) + timedelta(hours=1))


def _datastores(kind: str, azure_container: Any) -> tuple[list[str], list[str]]:
    """The datastore YAMLs for one kind of credential (``secret``; with a SAS also ``reader``, a read-only
    SAS: a direct input needs credentials that cannot write), and the secrets that must never be shown."""
    azurite = azure_container.azurite

    def head(name: str) -> str:
        return (f"name: {name}\ntype: azure_blob\naccount_name: {azurite.account}\n"
                f"container_name: {azure_container.name}\n")

    if kind == "account_key":
        return ([head("secret") + f"account_url: {azurite.blob_endpoint}\ncredentials:\n"
                                  f"  account_key: {azurite.key}\n"], [azurite.key])
    if kind == "sas_token":
        tokens = [_sas(azure_container, write=True), _sas(azure_container, write=False)]
        yamls = [head(name) + f"account_url: {azurite.blob_endpoint}\ncredentials:\n  sas_token: \"{sas}\"\n"
                 for name, sas in zip(("secret", "reader"), tokens, strict=True)]
        return yamls, [*tokens, *(urllib.parse.parse_qs(sas)["sig"][0] for sas in tokens)]
    return ([head("secret") + f"connection_string: \"{azurite.connection_string}\"\n"],
            [azurite.connection_string, azurite.key])


def _forms(secret: str) -> set[str]:
    """A secret as it could be printed: raw, URL-quoted (a query string), or unquoted."""
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
            urllib.parse.unquote(secret)}


# any credential, also one the runner made itself (the read-only SAS it derives from an account key for a
# direct input): a SAS signature or an account key in a connection string
CREDENTIAL_SHAPES = re.compile(r"(?:\bsig=|AccountKey=)[A-Za-z0-9%+/=]{16,}")


def _shown(text: str, secrets: list[str]) -> list[str]:
    found = [form[:12] + "..." for secret in secrets for form in _forms(secret) if form and form in text]
    return found + [match[:16] + "..." for match in CREDENTIAL_SHAPES.findall(text)]


@pytest.mark.parametrize("kind", ["account_key", "sas_token", "connection_string"])
def test_no_secret_in_any_log_record_or_output(kind: str, workspace_dir: Path, tmp_path: Path,
                                               docker_client: Any, fuse_available: bool,
                                               azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                           azure_container.name).upload_blob("data/a.txt", b"alpha\n")
    yamls, secrets = _datastores(kind, azure_container)
    outputs = []
    for index, yaml_text in enumerate(yamls):
        datastore = tmp_path / f"datastore{index}.yml"
        datastore.write_text(yaml_text)
        outputs.append(cli(ws, "--debug", "datastore", "create", "--file", str(datastore), check=True))
    job = write_job(tmp_path, JOB.replace("{reader}", "reader" if len(yamls) > 1 else "secret"))
    missing = write_job(tmp_path, MISSING, name="missing.yml")
    first = len(outputs)
    outputs += [
        cli(ws, "--debug", "job", "create", "--file", str(job), "--stream", "--name", "fg", check=True),
        cli(ws, "job", "create", "--file", str(job), "--name", "bg", check=True),
    ]
    # bg ends before a model is registered in its container: a direct output (whole-container credentials)
    # is refused, also when the job starts, in a container that holds a registered version
    bg_status = wait_for_status(ws, "bg", {"Completed", "Failed"})["status"]
    outputs += [
        cli(ws, "--debug", "job", "create", "--file", str(missing), "--stream", "--name", "bad"),
        cli(ws, "--debug", "model", "create", "--name", "m", "--version", "1", "--type", "custom_model",
            "--path", "azureml://datastores/secret/paths/data", check=True),
        cli(ws, "--debug", "model", "create", "--name", "m", "--version", "2", "--type", "custom_model",
            "--path", "azureml://datastores/secret/paths/nothing/here"),
    ]
    fg, bad, bad_model = outputs[first], outputs[first + 2], outputs[first + 4]
    assert "alpha\nalpha" in fg.stdout and "direct in:" in fg.stdout  # every mode ran
    assert bg_status == "Completed"
    assert bad.returncode != 0 and "no/such/folder" in bad.stderr  # the failures say where
    assert bad_model.returncode != 0 and "nothing/here" in bad_model.stderr  # ... (without a secret)
    shown_fg = len(outputs) + 3
    for args in (("datastore", "show", "--name", "secret"), ("datastore", "show", "--name", "secret", "-o",
                 "json"), ("datastore", "list", "-o", "json"), ("job", "show", "--name", "fg", "-o", "json"),
                 ("job", "list", "-o", "json"),
                 ("model", "show", "--name", "m", "--version", "1", "-o", "json"), ("job", "stream", "--name",
                 "bg")):
        outputs.append(cli(ws, *args, check=True))
    for result in outputs:  # ... and none of it is a secret
        assert _shown(result.stdout + result.stderr, secrets) == [], " ".join(map(str, result.args[3:]))
    assert json.loads(outputs[shown_fg].stdout)["status"] == "Completed"
    credential_store = {ws / "secrets", ws / "runner.db", ws / "runner.db-wal", ws / "runner.db-shm"}
    files = [p for p in ws.rglob("*") if p.is_file() and not any(s == p or s in p.parents
                                                                   for s in credential_store)]
    assert any(p.name == "runner.log" for p in files) and any(p.name == "std_log.txt" for p in files)
    for path in files:
        with path.open("rb") as handle:
            tail = b""
            while block := handle.read(1 << 20):
                text = (tail + block).decode("utf-8", "replace")
                assert _shown(text, secrets) == [], f"a secret in {path.relative_to(ws)}"
                tail = block[-1024:]  # a secret across two blocks
