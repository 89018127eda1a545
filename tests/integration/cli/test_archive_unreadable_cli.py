"""``runner job validate`` / ``job create`` of an input that reads a zip as tar
(``tar://a.txt::file:///<folder>/x.zip``, mode download): one located error (what: the file cannot be read
as a tar archive; where: the input's path line; fix: zip://), status 2, no traceback and no "internal
error"; nothing is created. Files live in this test's tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from jobs_support import cli, write_job


@pytest.mark.parametrize("command", [["job", "validate"], ["job", "create", "--dry-run"],
                                     ["job", "create", "--backend", "process", "--name", "zt1"]])
def test_a_zip_read_as_tar_is_one_located_error(workspace_dir: Path, tmp_path: Path,
                                                command: list[str]) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.txt", "alpha\n")
    job = write_job(tmp_path / "spec", f"""\
        command: cat ${{{{inputs.d}}}}
        environment: python:3.11
        inputs:
          d:
            type: uri_file
            path: tar://a.txt::file://{archive}
            mode: download
        """)
    result = cli(workspace_dir, *command, "--file", str(job))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith(f"error: {job}:6:"), result.stderr
    assert "inputs.d.path" in result.stderr and "as a tar archive" in result.stderr
    assert "zip://" in result.stderr and str(archive) in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    listed = cli(workspace_dir, "job", "list", "-o", "json", check=True)
    assert "zt1" not in listed.stdout
