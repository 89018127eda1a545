"""Path forms through the real CLI: a job's ``code:``, inputs and outputs read the ``file:`` forms alike
(``file://localhost/x``, ``file:/x``, a percent-encoded ``file:///a%20b``) and a job runs on them in a
container; ``code: file://<another host>/...`` is one error at its line; a ``direct`` input on an archive
over a file here is refused at ``job validate``, for a container and on the process backend alike (the job
could write the archive through its URL); a path missing
on a datastore caching a folder here fails ``job validate``. Everything lives in this test's tmp_path."""

from __future__ import annotations

import zipfile
from pathlib import Path

from jobs_support import cli, write_job


def _refused(ws: Path, job: Path, line: int, field: str) -> str:
    result = cli(ws, "job", "validate", "--file", str(job))
    assert result.returncode != 0, result.stdout
    assert f"{job}:{line}:" in result.stderr and field in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result.stderr


def test_code_inputs_and_outputs_read_file_urls_alike(workspace_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "my code"
    src.mkdir()
    (src / "main.py").write_text("import sys, pathlib\n"
                                 "text = pathlib.Path(sys.argv[1], 'x.txt').read_text()\n"
                                 "pathlib.Path(sys.argv[2], 'y.txt').write_text(text.upper())\n")
    data = tmp_path / "data é 1"
    data.mkdir()
    (data / "x.txt").write_text("from a url\n")
    out = tmp_path / "out"
    job = write_job(tmp_path / "spec", f"""\
        command: python main.py ${{{{inputs.d}}}} ${{{{outputs.o}}}}
        code: "file://localhost{src.as_uri()[len('file://'):]}"
        environment: python:3.11
        inputs:
          d: {{type: uri_folder, path: "{data.as_uri()}", mode: ro_mount}}
        outputs:
          o: {{type: uri_folder, path: "file:{out}", mode: upload}}
        """)
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (out / "y.txt").read_text() == "FROM A URL\n"


def test_code_naming_another_host_is_one_error_at_its_line(workspace_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "spec" / "fileserver" / "src").mkdir(parents=True)  # the relative reading: never taken
    job = write_job(tmp_path / "spec", """\
        command: python main.py
        code: file://fileserver/src
        environment: python:3.11
        """)
    stderr = _refused(workspace_dir, job, 2, "code")
    assert "names the host 'fileserver'" in stderr and "file:///" in stderr and "does not exist" not in stderr


def _direct_zip(tmp_path: Path, compute: str = "") -> Path:
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive:
        archive.writestr("a.txt", "zipped\n")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "read.py").write_text("import sys, fsspec\n"
                                               "fs, path = fsspec.core.url_to_fs(sys.argv[1])\n"
                                               "print(fs.cat_file(path).decode())\n")
    return write_job(tmp_path / "spec", f"""\
        command: python read.py ${{{{inputs.d}}}}
        code: .
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "zip://a.txt::file://{tmp_path / 'd.zip'}", mode: direct}}
        {compute}
        """)


def test_direct_on_an_archive_here_is_refused_for_a_container(workspace_dir: Path, tmp_path: Path) -> None:
    stderr = _refused(workspace_dir, _direct_zip(tmp_path), 5, "inputs.d.path")
    assert "container cannot open it" in stderr and "mode: download" in stderr and "mode: ro_mount" in stderr


def test_direct_on_an_archive_here_is_refused_on_the_process_backend(workspace_dir: Path,
                                                                     tmp_path: Path) -> None:
    job = _direct_zip(tmp_path, "compute: local-process")
    stderr = _refused(workspace_dir, job, 5, "inputs.d.path")
    assert "is a file on this machine" in stderr and "could write it" in stderr and "mode: ro_mount" in stderr
    created = cli(workspace_dir, "job", "create", "--file", str(job))
    assert created.returncode == 2 and "could write it" in created.stderr, created.stdout + created.stderr
    assert "Traceback" not in created.stderr and (tmp_path / "d.zip").is_file()


def test_a_path_missing_on_a_cache_here_fails_validate(workspace_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "here.txt").write_text("here\n")
    ds = write_job(tmp_path, f"name: cached\ntype: fsspec\nurl: simplecache::file://{root}\n", name="ds.yml")
    cli(workspace_dir, "datastore", "create", "--file", str(ds), check=True)
    job = write_job(tmp_path / "spec", """\
        command: cat ${{inputs.d}}
        environment: python:3.11
        inputs:
          d: {type: uri_file, path: "azureml://datastores/cached/paths/missing.txt", mode: download}
        """)
    stderr = _refused(workspace_dir, job, 4, "inputs.d.path")
    assert "'azureml://datastores/cached/paths/missing.txt' does not exist" in stderr and "here.txt" in stderr
