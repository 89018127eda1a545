"""A URL with a query string (a SAS token, a pre-signed URL) is refused where it is written, and the query
never reaches an error message, a plan, a job record or the workspace database."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, write_job

SIG = "c2VjcmV0LXNpZ25hdHVyZS1uZXZlci1zaG93bg%3D"
SAS = f"se=2030-01-01T00%3A00%3A00Z&sp=rl&sv=2021-08-06&sr=c&sig={SIG}"
URLS = [
    f"http://127.0.0.1:10000/devstoreaccount1/mycontainer/up1?{SAS}",
    f"https://acct.blob.core.windows.net/mycontainer/data/x.csv?{SAS}",
    f"wasbs://mycontainer@acct.blob.core.windows.net/data?{SAS}",
    f"abfs://mycontainer/data?{SAS}",
    f"https://example.com/bucket/x.csv?X-Amz-Signature={SIG}",
]

JOB = """\
command: cat ${{inputs.i}}
inputs:
  i:
    type: uri_file
    path: "URL"
outputs:
  o: {type: uri_folder, mode: upload}
environment:
  image: runner/busybox:latest
"""


def _nothing_kept(ws: Path) -> None:
    for path in ws.rglob("*"):
        if path.is_file():
            assert SIG.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("verb", ["validate", "create"])
def test_a_query_in_an_input_url_is_refused_without_showing_it(workspace_dir: Path, tmp_path: Path,
                                                                  url: str, verb: str) -> None:
    spec = write_job(tmp_path, JOB.replace("URL", url))
    result = cli(workspace_dir, "job", verb, "--file", str(spec), "--name", "q1")
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert SIG not in text and "sig=" not in text
    assert f"{spec}:5:" in text and "inputs.i.path" in text and "?<query removed>" in text
    assert "datastore" in text and "sas_token" in text or "storage_options" in text
    assert cli(workspace_dir, "job", "list", "-o", "json").stdout.strip() in ("[]", "")
    _nothing_kept(workspace_dir)


def test_a_query_given_with_set_or_as_an_output_path_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    spec = write_job(tmp_path, JOB.replace("URL", "./x.csv"))
    (tmp_path / "x.csv").write_text("1\n")
    for key in ("inputs.i.path", "outputs.o.path"):
        result = cli(workspace_dir, "--debug", "job", "validate", "--file", str(spec),
                     "--set", f"{key}={URLS[1]}")
        text = result.stdout + result.stderr
        assert result.returncode == 2, text
        assert SIG not in text and f"{key} (from --set" in text and "?<query removed>" in text


@pytest.mark.parametrize("group", ["model", "data"])
def test_a_query_in_a_registered_path_is_refused(workspace_dir: Path, group: str) -> None:
    result = cli(workspace_dir, group, "create", "--name", "m", "--version", "1", "--path", URLS[0])
    text = result.stdout + result.stderr
    assert result.returncode != 0 and "?<query removed>" in text, text
    assert SIG not in text
    _nothing_kept(workspace_dir)


PASSWORD = "hunter2-never-shown"
PASSWORD_URLS = [f"https://bob:{PASSWORD}@example.com/bucket/x.csv",
                 f"sftp://bob:{PASSWORD}@127.0.0.1/data/x.csv"]


@pytest.mark.parametrize("url", PASSWORD_URLS)
def test_a_password_in_a_url_path_is_refused_without_showing_it(workspace_dir: Path, tmp_path: Path,
                                                                  url: str) -> None:
    """A password in a path (user:password@) would be kept in the plan and the record, as a query would."""
    spec = write_job(tmp_path, JOB.replace("URL", url))
    result = cli(workspace_dir, "job", "validate", "--file", str(spec))
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert PASSWORD not in text and "bob:***@" in text and f"{spec}:5:" in text and "inputs.i.path" in text
    assert "storage_options" in text
    (tmp_path / "x.csv").write_text("1\n")
    plain = write_job(tmp_path, JOB.replace("URL", "./x.csv"), name="plain.yml")
    for key in ("inputs.i.path", "outputs.o.path"):
        given = cli(workspace_dir, "job", "validate", "--file", str(plain), "--set", f"{key}={url}")
        said = given.stdout + given.stderr
        assert given.returncode == 2 and PASSWORD not in said and f"{key} (from --set" in said, said
    for group in ("model", "data"):
        registered = cli(workspace_dir, group, "create", "--name", "m", "--version", "1", "--path", url)
        said = registered.stdout + registered.stderr
        assert registered.returncode != 0 and PASSWORD not in said and "bob:***@" in said, said
    _nothing_kept_of(workspace_dir, PASSWORD)


def _nothing_kept_of(ws: Path, secret: str) -> None:
    for path in ws.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
