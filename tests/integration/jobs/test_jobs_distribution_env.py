"""A ``distribution: {type: pytorch}`` job in a real container sees the variables Azure ML sets for
``torch.distributed.init_process_group(init_method="env://")``: ``MASTER_ADDR``, ``MASTER_PORT``,
``WORLD_SIZE``, ``NODE_RANK``, ``RANK``, ``LOCAL_RANK``, for the one process runner starts (two asked for
per instance: it says so, once), and its rank-0 process can listen at ``MASTER_ADDR:MASTER_PORT`` and be
reached there (what ``init_process_group``'s store does), in a container with no network. A value the
job's ``environment_variables`` give wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, job_log, write_job

from runner.plan.distribution_env import master_port

pytestmark = pytest.mark.docker

# what init_process_group's TCP store does on rank 0: listen at MASTER_ADDR:MASTER_PORT, be reached there
SCRIPT = """
import os, socket
names = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "NODE_RANK", "RANK", "LOCAL_RANK", "EXTRA")
for name in names:
    print(f"{name}={os.environ.get(name)}")
addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
server = socket.create_server((addr, port))
socket.create_connection((addr, port), timeout=5).close()
server.close()
print("store reached")
"""


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    return workspace_dir


def test_a_pytorch_job_sees_its_process_group_variables(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "show.py").write_text(SCRIPT)
    job = write_job(tmp_path, """
        code: src
        command: python show.py
        environment:
          image: runner/python:3.11
        environment_variables:
          EXTRA: mine
          MASTER_PORT: "29511"
        distribution:
          type: pytorch
          process_count_per_instance: 2
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "torch1")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    log = job_log(result.stdout)
    seen = dict(line.split("=", 1) for line in log.splitlines() if "=" in line)
    assert seen == {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511", "WORLD_SIZE": "1", "NODE_RANK": "0",
                    "RANK": "0", "LOCAL_RANK": "0", "EXTRA": "mine"}  # the job's MASTER_PORT, not runner's
    assert master_port("torch1") != 29511
    assert "store reached" in log
    assert result.stderr.count("runner starts one process on this machine") == 1, result.stderr
    assert "Azure ML would start 2" in result.stderr
