"""A real container job whose outputs hold what no output can keep: a FIFO, a character device
(``mknod dev c 1 5``), a link to /etc/shadow, next to ``ok.txt`` and ``back\\slash``. Nothing but files is
copied (the job still Completes), and every entry left out is named once per output, in the job's log
(stderr with ``--stream``, ``runner.log`` otherwise) and in the record's ``extra["warnings"]``:

- ``upload`` and ``rw_mount`` to a local datastore leave them out; ``direct`` leaves them in its folder
  and says no reader will take them;
- on Azure (Azurite) ``upload`` leaves them out, a ``rw_mount`` refuses to make them (the job's
  ``mkfifo``, ``mknod`` and ``ln -s`` fail: "Function not implemented"), and ``back\\slash`` is stored as
  ``back/slash`` (the service takes a backslash for a separator), said.

Everything in the test's throwaway workspace; the test never follows the planted link (trees are read
with ``tree_without_links``, kinds with ``lstat``) and never opens the FIFO."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    cli,
    create_azure_datastore,
    datastore_file,
    job_log,
    show,
    tree_without_links,
    wait_for_status,
    write_job,
)

DS = "azureml://datastores/workspaceblobstore/paths"
MAKE = ('mkfifo {o}/fifo || echo "refused: fifo"; mknod {o}/dev c 1 5 || echo "refused: dev"; '
        'ln -s /etc/shadow {o}/shadow || echo "refused: shadow"; echo ok > {o}/ok.txt; '
        'echo b > "{o}/back\\\\slash"')
LEFT_OUT = ("dev (a character device)", "fifo (a FIFO)", "shadow (a link to /etc/shadow, out of the output)")
RENAMED = "1 file uploaded under another name: Azure Blob Storage takes a backslash in a name for a " \
          "folder separator: back\\slash as back/slash"


def _job(tmp_path: Path, outputs: dict[str, str]) -> Path:
    command = "; ".join(MAKE.format(o=f"${{{{outputs.{name}}}}}") for name in outputs)
    lines = "\n".join(f"  {name}: {spec}" for name, spec in outputs.items())
    return write_job(tmp_path, f"command: >-\n  {command}\noutputs:\n{lines}\n"
                               "environment: {image: runner/busybox:latest}\n")


def _warning_lines(log: str, url_end: str) -> list[str]:
    """The warnings naming the output: ``warning: ...`` as the CLI prints them, ``... WARNING <logger>: ...``
    in a detached job's runner.log."""
    return [line for line in log.splitlines()
            if (line.startswith("warning: ") or " WARNING " in f" {line}") and f"{url_end}: " in line]


def _named_once(line: str) -> None:
    for item in LEFT_OUT:
        assert line.count(item) == 1, (item, line)


@pytest.mark.docker
def test_local_outputs_name_once_what_they_leave_out(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    job = _job(tmp_path, {"u": "{type: uri_folder, mode: upload}", "r": "{type: uri_folder, mode: rw_mount}",
                          "d": "{type: uri_folder, mode: direct}"})
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "leftlocal")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused:" not in job_log(result.stdout)  # a local folder takes them all
    for name in ("u", "r"):
        assert tree_without_links(datastore_file(ws, f"azureml/leftlocal/{name}")) == {
            "ok.txt": b"ok\n", "back\\slash": b"b\n"}  # no link, no FIFO, no device node
        [line] = _warning_lines(result.stderr, f"azureml/leftlocal/{name}")
        assert "3 entries not uploaded: " in line
        _named_once(line)
    folder = datastore_file(ws, "azureml/leftlocal/d")  # the job's own folder: left as it made it
    assert os.readlink(folder / "shadow") == "/etc/shadow"
    assert stat.S_ISFIFO((folder / "fifo").lstat().st_mode) and stat.S_ISCHR((folder / "dev").lstat().st_mode)
    [line] = _warning_lines(result.stderr, "azureml/leftlocal/d")
    assert "3 entries stay in its folder as the job left them" in line
    _named_once(line)
    assert "Traceback" not in result.stderr


@pytest.mark.azure
@pytest.mark.docker
@pytest.mark.fuse
def test_azure_outputs_name_once_what_they_leave_out_and_rename(workspace_dir: Path, tmp_path: Path,
                                                               azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    create_azure_datastore(ws, tmp_path, azure_container)
    job = _job(tmp_path, {"u": '{type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/o/u"}',
                          "r": '{type: uri_folder, mode: rw_mount, path: "azureml://datastores/az/paths/o/r"}'})
    result = cli(ws, "job", "create", "--stream", "--file", str(job), "--name", "leftaz")
    assert result.returncode == 0, result.stdout + result.stderr
    log = job_log(result.stdout)
    assert {line for line in log.splitlines() if line.startswith("refused:")} == {
        "refused: fifo", "refused: dev", "refused: shadow"}  # the mount makes none: said to the job
    assert log.count("Function not implemented") == 3
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    assert sorted(b.name for b in container.list_blobs()) == [
        "o/r/back/slash", "o/r/ok.txt", "o/u/back/slash", "o/u/ok.txt"]
    left, renamed = _warning_lines(result.stderr, "/o/u")
    assert "3 entries not uploaded: " in left and RENAMED in renamed
    _named_once(left)
    [line] = _warning_lines(result.stderr, "/o/r")
    assert RENAMED in line


def _small_job(tmp_path: Path) -> Path:
    return _job(tmp_path, {"u": f'{{type: uri_folder, mode: upload, path: "{DS}/small/u"}}'})


@pytest.mark.docker
def test_a_detached_jobs_log_names_them_once(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    cli(ws, "job", "create", "--file", str(_small_job(tmp_path)), "--name", "leftlog", check=True)
    assert wait_for_status(ws, "leftlog", {"Completed", "Failed"})["status"] == "Completed"
    [line] = _warning_lines((ws / "jobs" / "leftlog" / "runner.log").read_text(), "/small/u")
    _named_once(line)


@pytest.mark.docker
def test_the_record_names_them_once_after_the_plans_warnings(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    cli(ws, "job", "create", "--stream", "--file", str(_small_job(tmp_path)), "--name", "leftrec",
        check=True)
    record = show(ws, "leftrec")
    assert record["status"] == "Completed"
    [note] = [w for w in record["extra"].get("warnings", []) if w.startswith("outputs.u: ")]
    assert "3 entries not uploaded: " in note
    _named_once(note)
