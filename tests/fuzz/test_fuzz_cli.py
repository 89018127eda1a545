"""A sample of the fuzzed files (tests/fuzz/fuzz_corpus.py) through the real command line, served by
a fork server as a user's commands are (issue 20): ``runner job validate -f`` and ``runner model
create -f`` exit 0, or exit non-zero with one ``error:`` message, never a traceback, an internal
error or silence; and a sample of the jobs validate accepts runs (with a harmless command) to a
final status with a clear message."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_corpus import PWNED, Case, job_cases, model_cases, prepare_root
from jobs_support import RUNNER

from runner.errors import RunnerError
from runner.forkserver import server_pids
from runner.jobs.submit import check_submission, plan_job
from runner.launch import ENV_SWITCH
from runner.spec.load import load_job_spec
from runner.spec.yamlio import dump_yaml, load_yaml
from runner.workspace.db import Workspace

JOBS, MODELS = job_cases(), model_cases()
SAMPLE = [c for c in JOBS if c.must_fail] + JOBS[::16] + [c for c in JOBS if "alias" in c.name
                                                            or "deep" in c.name][:4] + MODELS[::9]
RUNS = 6  # accepted jobs run for real (with the docker backend)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private runtime folder (this module's own fork server, stopped at the end) and workspace."""
    runtime = Path(tempfile.mkdtemp(prefix="rfz-", dir="/tmp"))  # short: a socket's path is <= 107 bytes
    environ = {k: v for k, v in os.environ.items() if k != ENV_SWITCH}
    environ.update(XDG_RUNTIME_DIR=str(runtime),
                   RUNNER_WORKSPACE=str(tmp_path_factory.mktemp("fuzz-cli") / "ws"))
    yield environ
    for pid in server_pids(str(runtime)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(runtime, ignore_errors=True)
    assert not Path(PWNED).exists(), "a fuzzed file ran a command"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-files")
    prepare_root(folder)
    for case in JOBS + MODELS:
        (folder / f"{case.name}.yml").write_bytes(case.content)
    return folder


def _runner(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNNER, *args], capture_output=True, text=True, timeout=120, env=env,
                          errors="replace")


def _one_clear_message(case: Case, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in (0, 1, 2), f"{case.name}: exit {result.returncode}: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, case.name
    if result.returncode:
        assert result.stderr.startswith("error: "), f"{case.name}: {result.stderr[-2000:]!r}"
        assert len(result.stderr) < 5000, f"{case.name}: a {len(result.stderr)}-character message"


@pytest.mark.parametrize("case", SAMPLE, ids=[c.name for c in SAMPLE])
def test_the_cli_answers_a_fuzzed_file_with_one_message(case: Case, root: Path, env: dict[str, str]) -> None:
    command = ("job", "validate") if case.kind == "job" else ("model", "create")
    result = _runner(env, *command, "--file", str(root / f"{case.name}.yml"))
    _one_clear_message(case, result)
    if case.must_fail:
        assert result.returncode != 0, f"{case.name}: accepted ({case.must_fail})"


def _accepted(root: Path, ws: Workspace) -> Iterator[Case]:
    """The cases ``job validate`` accepts that name a Docker image (in this process, quickly)."""
    for case in JOBS:
        with contextlib.suppress(RunnerError):
            spec = load_job_spec(root / f"{case.name}.yml")
            backend = check_submission(spec, plan_job(spec, workspace=ws, job_name="accepted"),
                                       backend=None)
            if backend == "docker":
                yield case


@pytest.mark.docker
def test_jobs_validate_accepts_run_to_a_final_status_with_a_clear_message(
        root: Path, env: dict[str, str], tmp_path: Path, docker_client: Any) -> None:
    accepted = [c for c in _accepted(root, Workspace(tmp_path / "check")) if not c.name.endswith("valid")]
    assert len(accepted) >= RUNS  # mutated, yet accepted: do they run?
    for index, case in enumerate(accepted[:: len(accepted) // RUNS][:RUNS]):
        data = load_yaml(root / f"{case.name}.yml").data
        data["command"] = "echo ran"  # never a fuzzed command: the fields around it are what is tested
        outputs = data.get("outputs")
        for out_name, out in (outputs.items() if isinstance(outputs, dict) else ()):
            # a fuzzed host path (~root/.ssh/id_rsa, /etc/shadow) is never written by a test: a folder of
            # this test's own instead (datastore paths stay: they are inside the test's workspace)
            if isinstance(out, dict) and isinstance(out.get("path"), str) and \
                    not out["path"].startswith("azureml:"):
                out["path"] = str(tmp_path / "host-outputs" / f"fz{index}" / str(out_name))
        data["environment"] = {"image": "runner/busybox:latest"} if "build" not in str(
            data.get("environment")) else data["environment"]
        path = root / f"run-{case.name}.yml"
        dump_yaml(data, path)
        name = f"fz{index}"
        result = _runner(env, "job", "create", "--file", str(path), "--stream", "--name", name)
        assert result.returncode in (0, 1), f"{case.name}: exit {result.returncode}: {result.stderr}"
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr, case.name
        assert "ran\n" in result.stdout, f"{case.name}: {result.stderr}"
        record = json.loads(_runner(env, "job", "show", "--name", name, "-o", "json").stdout)
        assert record["status"] == ("Completed" if result.returncode == 0 else "Failed"), case.name
        if record["status"] == "Failed":  # (e.g. an output to register that the command left empty)
            assert record["error"] and f"Error: {record['error'].splitlines()[0]}" in result.stdout
