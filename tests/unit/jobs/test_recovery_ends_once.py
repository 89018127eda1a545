"""A job whose runner died, ended by whoever gets there (the job's watchdog, a runner command's recovery,
a cancel): the end is written once (the first writer records it; another finds the job ended and does
nothing); it collects ./outputs, ./logs and user_logs into the artifacts as a runner's end would (no link
followed, the originals kept); it copes with trees deeper than Python's recursion limit; and it holds the
artifacts back when the record cannot say whether the run held a failed job's outputs back.

Every tree is made in this test's own ``tmp_path``; the deep ones are removed by the test (pytest's own
cleanup recurses once per level)."""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mounts.transfer.tree import remove_tree
from runner.jobs import recovery
from runner.jobs.recovery import NO_UPLOAD_ON_FAILURE, mark_lost, release_resources, staged_outputs
from runner.workspace.db import JobRecord, JobStatus, Workspace

ARTIFACTS_AT = Path("datastores") / "workspaceblobstore" / "ExperimentRun"
DEEP = sys.getrecursionlimit() + 300
UNSAID = object()  # a record written before runners said whether they held a failed job's outputs back


def dead_job(ws: Workspace, name: str, *, backend: str | None = None, staged: bool = True,
             held_back: object = False, extra: dict[str, Any] | None = None,
             spec: dict[str, Any] | None = None) -> JobRecord:
    """A job whose runner was killed while its command ran: what it left in its folder (./outputs, ./logs,
    its log, its MLflow run; its artifacts staged or, ``staged=False``, written in place; an upload
    output ``o`` staged) and its Running record."""
    job_dir = ws.job_dir(name)
    for folder, file, text in ((job_dir.code_outputs, "result.txt", "result"),
                               (job_dir.code_logs, "train.log", "epoch 1"),
                               (job_dir.user_logs, "std_log.txt", "tick 1\n"),
                               (job_dir.outputs / "o", "r.txt", "staged output")):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_text(text)
    artifacts = job_dir.outputs / "artifacts" if staged else ws.root / ARTIFACTS_AT / f"dcid.{name}"
    (artifacts / "m").mkdir(parents=True)
    (artifacts / "m" / "a.txt").write_text("art")
    run = job_dir.mlruns / "0" / name
    run.mkdir(parents=True)
    (run / "meta.yaml").write_text(f"artifact_uri: file:///mnt/runner/artifacts\nend_time: null\n"
                                   f"run_id: {name}\nstart_time: 1\nstatus: 1\n")
    said = {} if held_back is UNSAID else {NO_UPLOAD_ON_FAILURE: held_back}
    return ws.create_job(JobRecord(
        name=name, status=JobStatus.RUNNING, runner_pid=1, job_dir=str(job_dir), backend=backend,
        extra={**said, **(extra or {})}, spec=spec or {},
        outputs={"o": f"azureml://datastores/workspaceblobstore/paths/azureml/{name}/o/"}))


def in_datastore(ws: Workspace, name: str) -> Path:
    return ws.root / ARTIFACTS_AT / f"dcid.{name}"


# ---- 2. one end: first writer wins --------------------------------------------------------------------

def test_an_ender_holding_a_stale_record_finds_the_job_ended_and_writes_nothing(tmp_path: Path) -> None:
    """The watchdog ends the job; a runner command's recovery read the job as Running before that and
    ends it after: it must not write a second end over the first (nor move or copy anything again)."""
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "once1")
    first = mark_lost(ws, record, reason="ended by the watchdog")
    again = mark_lost(ws, record, reason="ended by recovery")  # `record` says Running: read before the end
    assert ws.get_job("once1") == first == again
    assert first.error is not None and first.error.startswith("ended by the watchdog")


def test_end_lost_says_when_another_process_had_ended_the_job(tmp_path: Path) -> None:
    from runner.jobs.recovery import end_lost

    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "once2")
    ended = end_lost(ws, record, reason="first")
    assert ended is not None and ended.status is JobStatus.FAILED
    assert end_lost(ws, record, reason="second") is None
    assert ws.get_job("once2") == ended


def blocked_on_a_lock() -> bool:
    """Whether a thread of this process waits for a ``flock`` (``/proc/locks`` lists waiters as ``->``)."""
    pid = f" {os.getpid()} "
    return any("->" in line and pid in line for line in Path("/proc/locks").read_text().splitlines())


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_the_watchdog_and_recovery_racing_record_the_end_once(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic interleaving: the watchdog is inside its end (paused while it lists the staged
    outputs) when recovery, holding the same Running record, starts its own; recovery waits until the
    watchdog's end is written, then finds the job ended and does nothing."""
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "race1")
    inside, go = threading.Event(), threading.Event()
    listed: list[str] = []
    real_staged = recovery.staged_outputs

    def paused(ws_: Workspace, rec: JobRecord) -> Any:
        listed.append(threading.current_thread().name)
        if threading.current_thread().name == "watchdog":
            inside.set()
            go.wait()
        return real_staged(ws_, rec)

    ends: list[str | None] = []
    real_update = Workspace.update_job

    def counted(self: Workspace, name: str, *, ending: bool = False, **fields: Any) -> JobRecord:
        if ending:
            ends.append(fields.get("error"))
        return real_update(self, name, ending=ending, **fields)

    monkeypatch.setattr(recovery, "staged_outputs", paused)
    monkeypatch.setattr(Workspace, "update_job", counted)
    results: dict[str, JobRecord] = {}

    def end(who: str) -> None:
        results[who] = mark_lost(Workspace(ws.root), record, reason=f"ended by the {who}")

    watchdog = threading.Thread(target=end, args=("watchdog",), name="watchdog")
    watchdog.start()
    wait_until(inside.is_set, "the watchdog to be inside its end")
    racer = threading.Thread(target=end, args=("recovery",), name="recovery")
    racer.start()
    wait_until(lambda: not racer.is_alive() or blocked_on_a_lock(), "recovery to end or to wait")
    go.set()
    watchdog.join()
    racer.join()
    assert len(ends) == 1 and (ends[0] or "").startswith("ended by the watchdog"), ends
    assert listed == ["watchdog"]
    final = ws.get_job("race1")
    assert results["watchdog"] == results["recovery"] == final
    assert (in_datastore(ws, "race1") / "m" / "a.txt").read_text() == "art"


# ---- 3. ./outputs, ./logs and user_logs collected into the artifacts -----------------------------------

def test_a_dead_runners_outputs_logs_and_user_logs_reach_the_artifacts(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    record = dead_job(ws, "collect1")
    job_dir = ws.job_dir("collect1")
    (job_dir.code_outputs / "planted").symlink_to(secret)
    (job_dir.code_logs / "sub").symlink_to(tmp_path, target_is_directory=True)
    ended = mark_lost(ws, record)
    place = in_datastore(ws, "collect1")
    assert (place / "outputs" / "result.txt").read_text() == "result"
    assert (place / "logs" / "train.log").read_text() == "epoch 1"
    assert (place / "user_logs" / "std_log.txt").read_text() == "tick 1\n"
    assert (place / "m" / "a.txt").read_text() == "art"
    assert not (place / "outputs" / "planted").exists() and not (place / "logs" / "sub").exists()
    assert not any("host secret" in p.read_text() for p in place.rglob("*") if p.is_file())
    noted = ended.extra["links_not_followed"]
    assert any(str(job_dir.code_outputs / "planted") in n for n in noted), noted
    assert (job_dir.code_outputs / "result.txt").read_text() == "result"  # the originals stay
    assert (job_dir.user_logs / "std_log.txt").read_text() == "tick 1\n"
    assert "status: 4" in (job_dir.mlruns / "0" / "collect1" / "meta.yaml").read_text()  # MLflow: FAILED
    assert ended.extra["held_back_outputs"] == {"o": str(job_dir.outputs / "o")}


def test_a_host_process_jobs_artifacts_written_in_place_get_its_outputs_too(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "collect2", backend="process", staged=False)
    ended = mark_lost(ws, record)
    place = in_datastore(ws, "collect2")
    assert (place / "outputs" / "result.txt").read_text() == "result"
    assert (place / "user_logs" / "std_log.txt").read_text() == "tick 1\n"
    assert not (ws.job_dir("collect2").outputs / "artifacts").exists()
    assert ended.extra["held_back_outputs"] == {"o": str(ws.job_dir("collect2").outputs / "o")}


def test_a_copy_that_fails_keeps_the_originals_and_says_so(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import runner.jobs.artifacts as artifacts

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts, "copy_folder", full)
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "collect3")
    ended = mark_lost(ws, record)
    job_dir = ws.job_dir("collect3")
    assert ended.status is JobStatus.FAILED and ended.error is not None
    assert "No space left on device" in ended.error and str(job_dir.code) in ended.error
    assert (job_dir.code_outputs / "result.txt").read_text() == "result"
    assert (job_dir.user_logs / "std_log.txt").read_text() == "tick 1\n"


def test_held_back_artifacts_get_the_outputs_and_logs_too_and_stay_staged(tmp_path: Path) -> None:
    """--no-upload-on-failure: as a runner's end, ./outputs and the logs go into the staged artifacts,
    which are held back with the rest."""
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "collect4", held_back=True)
    ended = mark_lost(ws, record)
    staged = ws.job_dir("collect4").outputs / "artifacts"
    assert (staged / "outputs" / "result.txt").read_text() == "result"
    assert not in_datastore(ws, "collect4").exists()
    assert ended.extra["held_back_outputs"]["artifacts"] == str(staged)


# ---- 4. records that do not say whether the run held a failed job's outputs back ----------------------

def test_artifacts_of_a_record_that_does_not_say_stay_staged_and_the_record_says_why(tmp_path: Path) -> None:
    """Runners before 7bf7da6 did not record --no-upload-on-failure: such a record cannot tell whether
    the user asked to keep a failed job's artifacts out of the datastore, so they stay where they are."""
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "old1", held_back=UNSAID)
    ended = mark_lost(ws, record)
    staged = ws.job_dir("old1").outputs / "artifacts"
    assert not in_datastore(ws, "old1").exists()
    assert (staged / "m" / "a.txt").read_text() == "art"
    assert ended.extra["held_back_outputs"]["artifacts"] == str(staged)
    assert ended.error is not None and "--no-upload-on-failure" in ended.error and str(staged) in ended.error


@pytest.mark.parametrize("upload_on_failure", [True, False])
def test_a_pipeline_step_whose_record_does_not_say_follows_its_pipelines_record(
        tmp_path: Path, upload_on_failure: bool) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="pipe", status=JobStatus.RUNNING, spec={"type": "pipeline"},
                            extra={"pipeline": {"upload_on_failure": upload_on_failure}}))
    record = dead_job(ws, "step1", held_back=UNSAID, spec={"parent_job_name": "pipe"})
    ended = mark_lost(ws, record)
    assert in_datastore(ws, "step1").exists() is upload_on_failure
    assert ("artifacts" in ended.extra["held_back_outputs"]) is not upload_on_failure


def test_a_host_process_record_that_does_not_say_is_told_by_its_staged_artifacts(tmp_path: Path) -> None:
    """A host process's artifacts on a local datastore are staged only for --no-upload-on-failure."""
    ws = Workspace(tmp_path / "ws")
    record = dead_job(ws, "old2", backend="process", held_back=UNSAID)
    ended = mark_lost(ws, record)
    assert not in_datastore(ws, "old2").exists()
    assert "artifacts" in ended.extra["held_back_outputs"]


# ---- 1. trees deeper than the recursion limit -----------------------------------------------------------

def make_chain(top: Path, depth: int) -> None:
    """``top/a/a/.../a/f.txt`` (``depth`` folders), made one level at a time relative to its parent."""
    top.mkdir(parents=True, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            child = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open("f.txt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
        os.write(out, b"deep\n")
        os.close(out)
    finally:
        os.close(fd)


def test_recovery_removes_deep_input_scratch_and_names_a_deep_staged_output(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job_dir = ws.job_dir("deep1")
    try:
        make_chain(job_dir.inputs / "data", DEEP)
        make_chain(job_dir.outputs / "o", DEEP)
        record = ws.create_job(JobRecord(name="deep1", status=JobStatus.RUNNING, runner_pid=1,
                                         job_dir=str(job_dir), backend="process",
                                         extra={NO_UPLOAD_ON_FAILURE: False}))
        done = release_resources(ws, record)
        assert f"removed input scratch {job_dir.inputs}" in done and not job_dir.inputs.exists()
        [(folder, (count, first))] = staged_outputs(ws, record).items()
        assert folder == job_dir.outputs / "o" and count == 1 and first[0].endswith("/a/f.txt")
        ended = mark_lost(ws, record)
        assert ended.error is not None and f"staged outputs kept at: {job_dir.outputs / 'o'} (1 file: " in \
            ended.error
        assert len(ended.error) < 1000  # a path thousands of characters long is shortened
    finally:
        remove_tree(job_dir.root)


def test_a_staged_output_deeper_than_the_system_lists_is_still_named_as_kept(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    job_dir = ws.job_dir("deep2")
    try:
        (job_dir.outputs / "o").mkdir(parents=True)
        (job_dir.outputs / "o" / "top.txt").write_text("top")
        make_chain(job_dir.outputs / "o", 2600)  # its paths are longer than PATH_MAX
        record = ws.create_job(JobRecord(name="deep2", status=JobStatus.RUNNING, runner_pid=1,
                                         job_dir=str(job_dir), extra={NO_UPLOAD_ON_FAILURE: False}))
        ended = mark_lost(ws, record)
        assert ended.extra["held_back_outputs"] == {"o": str(job_dir.outputs / "o")}
        assert ended.error is not None and "top.txt" in ended.error and "not all listed" in ended.error
    finally:
        remove_tree(job_dir.root)
