"""A job runs as root in its container: it can make a set-user-ID (or set-group-ID) root executable in
anything it writes. Nothing the runner puts on the host from a job keeps those bits: ``upload`` and
local ``rw_mount`` outputs moved into a local datastore, a ``direct`` output written in place, the
artifacts (the collected ``./outputs``, and what the job wrote into its artifact folder itself), and the
copies ``job download`` makes. Their content and the rest of their mode (executable) are kept.

Everything happens in this test's throwaway workspace and datastore folder under ``tmp_path``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file, write_job

pytestmark = pytest.mark.docker

SETID = stat.S_ISUID | stat.S_ISGID
# each file: its mode in the container, and on the host (the set-ID bits dropped, the rest kept)
MODES = {"suid": (0o4755, 0o755), "sgid": (0o2750, 0o750), "both": (0o6711, 0o711),
         "plain": (0o755, 0o755)}


def _plant(folder: str) -> str:
    """Shell writing each file of ``MODES`` into ``folder`` and into ``folder/sub``, with its mode."""
    parts = [f"mkdir -p {folder}/sub"]
    for name, (mode, _) in MODES.items():
        for rel in (name, f"sub/{name}"):
            parts.append(f"echo {name} > {folder}/{rel} && chmod {mode:o} {folder}/{rel}")
    return " && ".join(parts)


def _check(folder: Path) -> None:
    for name, (_, wanted) in MODES.items():
        for rel in (name, f"sub/{name}"):
            info = os.lstat(folder / rel)
            assert stat.S_ISREG(info.st_mode), folder / rel
            assert stat.S_IMODE(info.st_mode) == wanted, f"{folder / rel}: {oct(info.st_mode)}"
            assert (folder / rel).read_text() == f"{name}\n"


def _setid_files(root: Path) -> list[str]:
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            info = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(info.st_mode) and info.st_mode & SETID:
                found.append(os.path.join(dirpath, name))
    return found


def test_no_output_keeps_a_set_id_bit_on_the_host(workspace_dir: Path, tmp_path: Path,
                                                 docker_client: Any) -> None:
    ws = workspace_dir
    shared = tmp_path / "shared"  # a user's local datastore (which could be world-readable)
    shared.mkdir()
    spec = write_job(tmp_path, f"name: shared\ntype: local\npath: {shared}\n", name="shared.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)
    outputs = ("up", "rw", "di", "sup", "srw", "sdi")
    command = " && ".join([*(_plant(f"${{{{outputs.{name}}}}}") for name in outputs),
                           _plant("outputs"), _plant("/mnt/runner/artifacts/direct")])
    side = "azureml://datastores/shared/paths"
    job = write_job(tmp_path, f"""
        command: {command}
        outputs:
          up: {{mode: upload}}
          rw: {{mode: rw_mount}}
          di: {{mode: direct}}
          sup: {{mode: upload, path: {side}/up}}
          srw: {{mode: rw_mount, path: {side}/rw}}
          sdi: {{mode: direct, path: {side}/di}}
        environment:
          image: runner/busybox:latest
        """, name="setid.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "setid1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr

    failures = []
    folders = [datastore_file(ws, f"azureml/setid1/{name}") for name in ("up", "rw", "di")]
    folders += [shared / name for name in ("up", "rw", "di")]
    artifacts = datastore_file(ws, "ExperimentRun/dcid.setid1")
    folders += [artifacts / "outputs", artifacts / "direct"]
    for folder in folders:
        try:
            _check(folder)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)
    assert _setid_files(ws / "datastores") == [] and _setid_files(shared) == []

    downloaded = tmp_path / "dl"
    got = cli(ws, "job", "download", "--name", "setid1", "--all", "--download-path", str(downloaded))
    assert got.returncode == 0, got.stdout + got.stderr
    for name in outputs:
        _check(downloaded / "named-outputs" / name)
    _check(downloaded / "artifacts" / "outputs")
    assert _setid_files(downloaded) == []
