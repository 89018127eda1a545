"""A chained fsspec URL as a job input, end to end: ``runner job validate`` shows it as fsspec's (never a
relative local path), a run reads it (process backend), a cache over this machine's files is refused (the
workspace's secrets with it), and a malformed chain is one error at its line."""

from __future__ import annotations

import zipfile
from pathlib import Path

from jobs_support import cli, job_log, write_job


def _job(folder: Path, path: str, mode: str = "download") -> Path:
    return write_job(folder, f"""\
        command: cat ${{{{inputs.d}}}}
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "{path}", mode: {mode}}}
        """)


def test_a_chained_url_validates_and_runs_as_fsspecs(workspace_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "from-the-zip\n")
    with zipfile.ZipFile(tmp_path / "e.zip", "w") as zf:
        zf.writestr("a.txt", "from-the-cache\n")
    for path, text in ((f"zip://a.txt::file://{archive}", "from-the-zip"),
                       (f"simplecache::zip://a.txt::file://{tmp_path / 'e.zip'}", "from-the-cache")):
        job = _job(tmp_path / "spec", path)
        checked = cli(workspace_dir, "job", "validate", "--file", str(job))
        assert checked.returncode == 0, checked.stderr
        assert "does not exist" not in checked.stdout and str(tmp_path / "spec" / "simplecache") not in \
            checked.stdout
        ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process")
        assert ran.returncode == 0, ran.stderr
        assert text in job_log(ran.stdout)


def test_a_cache_over_the_workspaces_secrets_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    cli(workspace_dir, "job", "list", check=True)  # the workspace exists (its database too)
    job = _job(tmp_path, f"simplecache::file://{workspace_dir / 'runner.db'}")
    result = cli(workspace_dir, "job", "validate", "--file", str(job))
    assert result.returncode != 0 and "cache over this machine's files" in result.stderr, result.stderr
    assert f"{job}:4:" in result.stderr and "Traceback" not in result.stderr
    plain = _job(tmp_path / "plain", str(workspace_dir / "runner.db"))  # the path it names: refused too
    result = cli(workspace_dir, "job", "validate", "--file", str(plain))
    assert result.returncode != 0 and "input 'd' cannot be read" in result.stderr, result.stderr
    assert "runner.db" in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_chain_is_one_error_at_its_line(workspace_dir: Path, tmp_path: Path) -> None:
    job = _job(tmp_path, "file::/tmp/x.csv")
    result = cli(workspace_dir, "job", "validate", "--file", str(job))
    assert result.returncode != 0 and f"{job}:4:" in result.stderr and "inputs.d.path" in result.stderr
    assert "before its last link" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
