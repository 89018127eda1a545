"""Path edge cases through the real CLI, each one clear error at the input's line (no traceback, no
"internal error", no storage hint about credentials): a datastore path going on below a file, a
``file://`` URL naming another host, a cache over this machine's files written as a path, an fsspec
datastore whose url and storage_options name two hosts; and a path naming a link below a datastore
caching this machine's files fails ``job validate`` with the message the run fails with.

Everything lives in this test's tmp_path; the planted link names a decoy there (never followed here)."""

from __future__ import annotations

from pathlib import Path

from jobs_support import cli, write_job


def _job(folder: Path, path: str, type_: str = "uri_file") -> Path:
    return write_job(folder, f"""\
        command: cat ${{{{inputs.d}}}}
        environment: python:3.11
        inputs:
          d: {{type: {type_}, path: "{path}", mode: download}}
        """)


def _datastore(ws: Path, folder: Path, text: str) -> None:
    yml = write_job(folder, text, name="ds.yml")
    cli(ws, "datastore", "create", "--file", str(yml), check=True)


def _refused(ws: Path, job: Path) -> str:
    result = cli(ws, "job", "validate", "--file", str(job))
    assert result.returncode != 0, result.stdout
    stderr = result.stderr
    assert f"{job}:4:" in stderr and "inputs.d.path" in stderr and "hint:" in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return stderr


def test_a_path_below_a_file_says_which_part_is_a_file(workspace_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "runner.db").write_text("a file\n")
    _datastore(workspace_dir, tmp_path, f"name: loc\ntype: local\npath: {store}\n")
    stderr = _refused(workspace_dir, _job(tmp_path / "spec", "azureml://datastores/loc/paths/runner.db/x"))
    assert "'azureml://datastores/loc/paths/runner.db' is a file" in stderr
    assert "credentials" not in stderr and "NotADirectoryError" not in stderr


def test_a_file_url_naming_another_host_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    stderr = _refused(workspace_dir, _job(tmp_path, "file://fileserver/share/x.csv"))
    assert "'fileserver'" in stderr and "file:///" in stderr


def test_a_cache_over_this_machines_files_as_a_path_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("plain\n")
    stderr = _refused(workspace_dir, _job(tmp_path / "spec", f"simplecache::file://{tmp_path / 'plain.txt'}"))
    assert f"'{tmp_path / 'plain.txt'}'" in stderr and "url: simplecache::file:///" in stderr


def test_a_url_and_an_option_naming_two_hosts_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    _datastore(workspace_dir, tmp_path, "name: far\ntype: fsspec\nurl: ftp://b.example/data\n"
                                        "storage_options: {host: a.example}\n")
    stderr = _refused(workspace_dir, _job(tmp_path / "spec", "azureml://datastores/far/paths/x.csv"))
    assert "datastore 'far'" in stderr and "'host'" in stderr and "TypeError" not in stderr


def test_validate_refuses_a_cached_link_as_the_run_does(workspace_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "decoy.txt").write_text("DECOY\n")
    (root / "a.txt").symlink_to(tmp_path / "outside" / "decoy.txt")
    _datastore(workspace_dir, tmp_path, f"name: cached\ntype: fsspec\nurl: simplecache::file://{root}\n")
    job = _job(tmp_path / "spec", "azureml://datastores/cached/paths/a.txt")
    stderr = _refused(workspace_dir, job)
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process")
    assert ran.returncode != 0 and "DECOY" not in ran.stdout + stderr
    said = stderr.split("cannot read ", 1)[1].strip()
    assert f"{root / 'a.txt'} is a link" in said and said in ran.stdout + ran.stderr, ran.stdout + ran.stderr
