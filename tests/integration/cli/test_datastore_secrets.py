"""An fsspec datastore's secrets are never shown or kept in the database, wherever they sit in its
``storage_options`` (nested, in headers), and a password in its URL is refused, never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import RunnerError
from runner.workspace.datastores import load_datastore, public_dict

BEARER = "Bearer topsecrettoken123"
NESTED = "nestedsecretvalue456"
PASSWORD = "hunter2secretpw"
SECRETS = ("topsecrettoken123", NESTED, PASSWORD)

FSSPEC_YAML = f"""name: fsnested
type: fsspec
url: https://127.0.0.1:9/data
storage_options:
  client_kwargs:
    headers: {{Authorization: "{BEARER}", Accept: application/json}}
    trust_env: false
  headers: {{Proxy-Authorization: "Basic {NESTED}", X-Api-Key: {NESTED}, Cookie: "s={NESTED}"}}
  config_kwargs: {{credentials: {{private_key: {NESTED}, passphrase: {NESTED}}}}}
  tokens: [{NESTED}]
  endpoint_url: "https://user:{PASSWORD}@127.0.0.1:9"
  anon: false
"""


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _no_secret(text: str, where: str) -> None:
    assert not [s for s in SECRETS if s in text], f"a secret in {where}: {text}"


def test_nested_storage_option_secrets_are_masked_everywhere(workspace_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text(FSSPEC_YAML)
    for output in ("json", "yaml", "table"):
        code, out = cli("datastore", "create", "--file", str(spec), "-o", output)
        assert code == 0, out
        _no_secret(out, f"datastore create -o {output}")
        for verb in (("show", "--name", "fsnested"), ("list",)):
            code, out = cli("datastore", *verb, "-o", output)
            assert code == 0 and "fsnested" in out, out
            _no_secret(out, f"datastore {verb[0]} -o {output}")
    code, out = cli("datastore", "show", "--name", "fsnested", "-o", "json")
    shown = json.loads(out)["storage_options"]
    assert shown["client_kwargs"]["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert shown["client_kwargs"]["trust_env"] is False and shown["anon"] is False  # not secrets: shown
    assert set(shown["headers"].values()) == {"***"}
    assert shown["config_kwargs"]["credentials"] == {"private_key": "***", "passphrase": "***"}
    assert shown["tokens"] == ["***"]
    assert shown["endpoint_url"] == "https://user:***@127.0.0.1:9"
    for path in workspace_dir.rglob("*"):  # the database (and its journal) holds no secret
        if path.is_file() and "secrets" not in path.relative_to(workspace_dir).parts:
            _no_secret(path.read_bytes().decode("latin-1"), str(path))


def test_the_real_values_still_reach_a_direct_job_and_the_filesystem(workspace_dir: Path,
                                                                      tmp_path: Path) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text(FSSPEC_YAML)
    assert cli("datastore", "create", "--file", str(spec))[0] == 0
    from runner.client import MLClient

    ds = MLClient(workspace_dir=workspace_dir).datastores.get("fsnested")
    assert ds.storage_options["client_kwargs"]["headers"]["Authorization"] == BEARER
    env = json.loads(ds.direct_env(write=True)["FSSPEC_HTTPS"])
    assert env["client_kwargs"]["headers"]["Authorization"] == BEARER
    _no_secret(repr(ds) + str(ds), "the datastore's repr")


def test_public_dict_masks_a_flat_authorization_header() -> None:
    from runner.workspace.datastores import FsspecDatastore

    ds = FsspecDatastore(name="h", url="https://example.invalid/d",
                         storage_options={"headers": {"Authorization": BEARER}, "password": "p",
                                          "client_secret": "c", "sas": "s", "credentials": {"a": "b"}})
    shown = public_dict(ds)["storage_options"]
    assert shown == {"headers": {"Authorization": "***"}, "password": "***", "client_secret": "***",
                     "sas": "***", "credentials": {"a": "***"}}


@pytest.mark.parametrize("url", [f"https://bob:{PASSWORD}@127.0.0.1:9/data",
                                 f"sftp://bob:{PASSWORD}@example.invalid/home/bob",
                                 f"simplecache::ftp://bob:{PASSWORD}@example.invalid/x"])
def test_a_password_in_a_datastore_url_is_refused_and_never_shown(workspace_dir: Path, tmp_path: Path,
                                                                 url: str) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text(f'name: fsurl\ntype: fsspec\nurl: "{url}"\n')
    code, out = cli("datastore", "create", "--file", str(spec), "-o", "json")
    assert code != 0 and "password" in out and "storage_options" in out and "url" in out, out
    assert "Traceback" not in out
    _no_secret(out, "the refusal")
    assert not [p for p in workspace_dir.rglob("*") if p.is_file() and PASSWORD.encode() in p.read_bytes()]


def test_a_user_name_alone_in_a_url_is_kept(tmp_path: Path) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text("name: fsuser\ntype: fsspec\nurl: sftp://bob@example.invalid/home/bob\n")
    assert load_datastore(spec).url == "sftp://bob@example.invalid/home/bob"


def test_a_password_in_an_azure_account_url_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text("name: az\ntype: azure_blob\naccount_name: a\ncontainer_name: c\n"
                    f"account_url: http://a:{PASSWORD}@127.0.0.1:10000/a\n")
    with pytest.raises(RunnerError) as caught:
        load_datastore(spec)
    assert "password" in caught.value.render() and PASSWORD not in caught.value.render()


def test_a_datastore_an_older_runner_saved_with_a_password_can_still_be_deleted(workspace_dir: Path,
                                                                               tmp_path: Path) -> None:
    spec = tmp_path / "ds.yml"
    spec.write_text("name: fsold\ntype: fsspec\nurl: https://127.0.0.1:9/data\n")
    assert cli("datastore", "create", "--file", str(spec))[0] == 0
    secret = workspace_dir / "secrets" / "datastore-fsold.json"
    saved = json.loads(secret.read_text())
    secret.write_text(json.dumps({**saved, "url": f"https://bob:{PASSWORD}@127.0.0.1:9/data"}))
    code, out = cli("datastore", "show", "--name", "fsold")
    assert code != 0 and "not valid any more" in out, out
    _no_secret(out, "the refusal of an old datastore")
    code, out = cli("datastore", "delete", "--name", "fsold")
    assert code == 0 and "deleted datastore 'fsold'" in out, out
    assert not secret.exists()
    code, out = cli("datastore", "show", "--name", "fsold")
    assert code != 0 and "unknown datastore 'fsold'" in out, out
