"""Pins live in one root shared by every workspace (``/run/runner/pins``): a ``runner job ...`` command in
workspace A sweeps the pins of dead runners whatever workspace their jobs are in. Those of a job whose
watchdog still follows its container (it holds the job's log: ``runner.jobs.log_lock``) are kept, even
when the job is in workspace B, which A's ``reconcile`` knows nothing of: the pin set names the job's log
(``PinSet(holder=...)``, passed by ``runner.jobs.materialize.materializations``).

A child process holding the ``flock`` stands in for the watchdog. No mount is made (``_mount`` does
nothing); the pin root is a throwaway folder in this test's ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

import mounts.pin as pin
from mounts.base import Target
from mounts.pin import PinSet
from runner.jobs import materialize, recovery
from runner.jobs.recovery import reconcile
from runner.workspace.db import JobRecord, JobStatus, Workspace

# the watchdog's stand-in: holds the log locked until its stdin closes
KEEPER = """
import fcntl, sys
log = open(sys.argv[1], "ab")
fcntl.flock(log, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def dead_pid() -> int:
    """The pid of a process that ended (and was reaped): a runner that died."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture()
def pin_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # only root pins (and sweeps): as root here
    monkeypatch.setattr(pin, "check_pin_root", lambda root: None)  # a throwaway root in tmp_path
    monkeypatch.setattr(pin, "_mount", lambda source, target, flags: None)
    root = tmp_path / "pins"
    sweep = recovery.sweep_stale_pins  # (sweeps only here, never the machine's pins)
    monkeypatch.setattr(recovery, "sweep_stale_pins", lambda *_, **kw: sweep(root, **kw))
    return root


@pytest.fixture()
def keeper() -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(log: Path) -> subprocess.Popen[str]:
        child = subprocess.Popen([sys.executable, "-c", KEEPER, str(log)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        started.append(child)
        assert child.stdout is not None and child.stdout.readline() == "held\n"
        return child

    yield start
    for child in started:
        child.communicate("", timeout=60)


def lost_job(ws: Workspace, name: str) -> JobRecord:
    """A Running container job whose runner died, with its log."""
    job_dir = ws.job_dir(name)
    job_dir.user_logs.mkdir(parents=True, exist_ok=True)
    job_dir.std_log.write_text("tick 1\n")
    return ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, runner_pid=dead_pid(),
                                   job_dir=str(job_dir), backend="docker", container_id="c0ffee"))


def pinned_by_dead_runner(monkeypatch: pytest.MonkeyPatch, root: Path, ws: Workspace, name: str,
                          output: Path) -> PinSet:
    """The pins a job's runner made (its ``direct`` output's folder), never released: the runner died."""
    pid = dead_pid()
    with monkeypatch.context() as patch:
        patch.setattr(os, "getpid", lambda: pid)
        pins = PinSet(name, root=root, holder=ws.job_dir(name).std_log)
    output.mkdir(parents=True)
    pins.pin_output(Target(fs=None, path=str(output), url="", local_path=output,  # type: ignore[arg-type]
                           local_root=output.parent))
    return pins


def test_a_command_in_another_workspace_keeps_the_pins_of_a_job_its_watchdog_follows(
        tmp_path: Path, pin_root: Path, monkeypatch: pytest.MonkeyPatch, keeper: Any) -> None:
    ws_a, ws_b = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    lost_job(ws_b, "followed")
    lost_job(ws_b, "orphan")
    followed = pinned_by_dead_runner(monkeypatch, pin_root, ws_b, "followed", tmp_path / "ds" / "f")
    orphan = pinned_by_dead_runner(monkeypatch, pin_root, ws_b, "orphan", tmp_path / "ds" / "o")
    watchdog = keeper(ws_b.job_dir("followed").std_log)

    assert reconcile(ws_a) == []  # workspace A has no job of its own
    assert (followed.folder / "0").is_dir()  # its container still runs: B's watchdog follows it
    assert not orphan.folder.exists()  # nobody follows that one: swept
    assert ws_b.get_job("followed").status is JobStatus.RUNNING

    watchdog.communicate("", timeout=60)  # the watchdog let the job go: the next command releases them
    assert reconcile(ws_a) == []
    assert not followed.folder.exists()


def test_a_runs_pins_name_its_jobs_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, Path | None]] = []

    class Pins:
        def __init__(self, label: str, *, holder: Path | None = None) -> None:
            made.append((label, holder))

        def __enter__(self) -> Pins:
            return self

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(materialize, "PinSet", Pins)
    log = tmp_path / "jobs" / "j1" / "user_logs" / "std_log.txt"
    with ExitStack() as stack:
        materialize.materializations(stack, "j1", pin=True, holder=log)
    assert made == [("j1", log)]
