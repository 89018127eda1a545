"""`runner job create --stream` whose reader goes away (`... --stream | head -1`, a closed terminal pipe):
the job's output stops being shown, but its log (`user_logs/std_log.txt`, and the artifacts' copy) keeps
every line the command printed after that, the job completes and its outputs are finalized. Before, the
broken pipe stopped the log being written too: what the command printed next was lost.

Deterministic: the command prints a line, then waits for a file the test makes once it has read that line
and closed its end of the pipe; it prints the next line (the one whose echo breaks), then waits for another
file the test makes once that line is in the log (the process backend: a host process can see the test's
folder)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from jobs_support import RUNNER, datastore_file, show, write_job


def test_the_log_keeps_every_line_when_the_stream_reader_goes_away(workspace_dir: Path,
                                                                    tmp_path: Path) -> None:
    ws, go = workspace_dir, tmp_path / "go"
    job = write_job(tmp_path, f"""
        command: >-
          echo first && while [ ! -e {go} ]; do sleep 0.1; done && echo second &&
          while [ ! -e {go}2 ]; do sleep 0.1; done && echo third && echo out > ${{{{outputs.o}}}}/f.txt
        outputs:
          o: {{mode: upload}}
        environment:
          image: runner/busybox:latest
        compute: local-process
        """)
    runner = subprocess.Popen([*RUNNER, "--workspace", str(ws), "job", "create", "--file", str(job),
                               "--stream", "--name", "gone1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    assert runner.stdout is not None and runner.stderr is not None
    assert runner.stdout.readline().strip() == "first"
    runner.stdout.close()  # the reader goes away, as `| head -1` does
    go.touch()
    log_path = ws / "jobs" / "gone1" / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 60
    while "second" not in log_path.read_text():  # echoed too, to the closed pipe: it broke there
        assert time.monotonic() < deadline and runner.poll() is None, "the command did not go on"
        time.sleep(0.05)
    (tmp_path / "go2").touch()
    stderr = runner.stderr.read()
    runner.wait(timeout=120)
    assert "Traceback" not in stderr, stderr
    record = show(ws, "gone1")
    assert record["status"] == "Completed", record["error"]
    log = log_path.read_text()
    assert log.splitlines() == ["first", "second", "third"]
    artifacts_copy = datastore_file(ws, "ExperimentRun/dcid.gone1/user_logs/std_log.txt").read_text()
    assert artifacts_copy == log
    assert datastore_file(ws, "azureml/gone1/o/f.txt").read_text() == "out\n"
    assert stderr.count("is no longer shown here") == 1  # said once, on stderr
