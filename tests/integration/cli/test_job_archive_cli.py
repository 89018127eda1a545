"""`runner job archive` / `runner job restore` through the real CLI, as `az ml job archive/restore`: an
archived job (a command job, a pipeline, one archived while it runs) leaves `runner job list` until
`--include-archived` / `--archived-only` asks for it, stays archived when its run ends, and comes back with
`restore`. Every job runs as a host process in this test's tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, show, wait_for_status, write_job

PIPELINE = """
type: pipeline
settings:
  default_compute: local-process
jobs:
  hello:
    type: command
    command: echo hello
    environment: {image: unused:1}
"""


def _listed(ws: Path, *flags: str) -> list[str]:
    return [r["name"] for r in json.loads(cli(ws, "job", "list", "-o", "json", *flags, check=True).stdout)]


def test_archive_restore_and_list(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    done = write_job(tmp_path / "done", "command: echo done\nenvironment: python:3.11\n")
    cli(ws, "job", "create", "--file", str(done), "--name", "done1", "--stream", "--backend", "process",
        check=True)
    pipe = write_job(tmp_path / "pipe", PIPELINE, "pipeline.yml")
    cli(ws, "job", "create", "--file", str(pipe), "--name", "pipe1", "--stream", check=True)
    go = tmp_path / "go"
    waits = write_job(tmp_path / "waits", f"command: while [ ! -e {go} ]; do sleep 0.1; done; echo went\n"
                                          "environment: python:3.11\n")
    cli(ws, "job", "create", "--file", str(waits), "--name", "waits1", "--backend", "process", check=True)
    try:
        wait_for_status(ws, "waits1", {"Running"})
        for name in ("done1", "pipe1", "waits1"):
            archived = cli(ws, "job", "archive", "--name", name)
            assert archived.returncode == 0 and name in archived.stdout, archived.stdout + archived.stderr
        assert _listed(ws) == []
        assert show(ws, "waits1")["status"] == "Running"  # archiving touches nothing of the run
    finally:
        go.touch()  # the waiting job ends whatever happened above
    ended = wait_for_status(ws, "waits1", {"Completed", "Failed", "Canceled"})
    assert ended["status"] == "Completed" and ended["archived"] is True
    assert sorted(_listed(ws, "--archived-only")) == ["done1", "pipe1", "waits1"]
    table = cli(ws, "job", "list", "--include-archived", check=True).stdout
    assert "archived" in table.splitlines()[0] and all(n in table for n in ("done1", "pipe1", "waits1"))
    assert _listed(ws, "--parent-job-name", "pipe1")  # its steps are still listed under it

    restored = cli(ws, "job", "restore", "--name", "pipe1")
    assert restored.returncode == 0, restored.stderr
    assert _listed(ws) == ["pipe1"]
    assert "archived" not in show(ws, "pipe1") or show(ws, "pipe1")["archived"] is False

    unknown = cli(ws, "job", "archive", "--name", "nope")
    assert unknown.returncode != 0 and "unknown job 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
