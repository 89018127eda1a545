"""Proof that two Ray jobs' commands ran at the same time, without comparing clocks: each command waits
(bounded) for a go file in its own container that the test creates (``docker exec``) only once it has seen
both containers running at once, so both commands end well only if they ran together. Runs that were
serialized never get the go: the first one's command fails after ``WAIT_S`` and so does the test.

    command = f"echo start; {WAIT_FOR_GO}; echo end"
    release_together(docker_client, ["r-head", "r-worker"])   # both running now: both released
"""

from __future__ import annotations

import time
from typing import Any

from jobs_support import containers_of

GO = "/tmp/runner-overlap-go"  # in each job's own container (its /tmp), made by the test alone
WAIT_S = 120
# the command's wait: ends 0 once the go file is there, else 7 after WAIT_S (no ": " or " #": a plain YAML
# scalar)
WAIT_FOR_GO = (f"i=0; while [ ! -e {GO} ] && [ $i -lt {WAIT_S * 2} ]; do sleep 0.5; i=$((i+1)); done; "
               f"[ -e {GO} ] || {{ echo never released, the other run was not running at the same time; "
               "exit 7; }")


def release_together(docker_client: Any, jobs: list[str], timeout: float = WAIT_S) -> None:
    """Wait until every job of ``jobs`` has a running container in one listing, then create the go file in
    each (their commands wait for it); fail when that never happens within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        running = {job: [c for c in containers_of(docker_client, job) if c.status == "running"]
                   for job in jobs}
        if all(running.values()):
            break
        assert time.monotonic() < deadline, (
            f"the jobs' containers were never running at the same time: {running}")
        time.sleep(0.5)
    for job, containers in running.items():
        for container in containers:  # it cannot have ended: its command still waits for the go
            code, out = container.exec_run(["touch", GO])
            assert code == 0, f"{job}: the go file was not made: {out!r}"
