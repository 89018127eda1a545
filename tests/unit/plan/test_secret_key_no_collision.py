"""The key a docker_args secret is kept under (in a plan's ``secret_env`` and the workspace's secrets file)
cannot be a variable's name: an ``environment_variables`` name holds no '=', the key does. So a variable
named like the key (``docker_args -e API_TOKEN``, which an older runner used) is a variable like any: the
job is created and gets its own value, and docker_args' ``API_TOKEN`` keeps its own. A plan recorded with
the older keys (a job Queued before an upgrade) still gets its docker_args values back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runner.plan.build import build_plan
from runner.plan.env_secrets import DOCKER_KEY, MASK, spec_secret_values, with_secret_env
from runner.plan.types import Resources, RunPlan
from runner.spec.docker_env import env_pairs
from runner.spec.job import CommandJobSpec
from runner.spec.load import spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

NAME = "docker_args -e API_TOKEN"  # what an older runner keyed docker_args' API_TOKEN by


def _spec(tmp_path: Path, **more: object) -> CommandJobSpec:
    return spec_from_data({"command": "env", "environment": {"image": "runner/busybox:latest"},
                           "environment_variables": {NAME: "vvvSECRET"}, **more}, base_dir=tmp_path)


def _plan(spec: CommandJobSpec, tmp_path: Path) -> RunPlan:
    return build_plan(spec, job_name="j1", job_dir=JobDir(tmp_path / "jobs" / "j1"), inputs={}, outputs={},
                      environment=ResolvedEnvironment("runner/busybox:latest"))


def test_the_key_holds_what_no_variable_name_can() -> None:
    assert "=" in DOCKER_KEY


def test_a_variable_named_like_the_old_key_is_kept_and_given_back(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    plan = _plan(spec, tmp_path)
    assert plan.secret_env == (NAME,) and plan.env[NAME] == MASK
    values = spec_secret_values(spec, plan.secret_env)
    assert values == {NAME: "vvvSECRET"}
    assert with_secret_env(plan, values).env[NAME] == "vvvSECRET"


def test_with_docker_args_setting_the_same_name_each_gets_its_own(tmp_path: Path) -> None:
    spec = _spec(tmp_path, resources={"docker_args": "-e API_TOKEN=wwwSECRET"})
    plan = _plan(spec, tmp_path)
    assert len(set(plan.secret_env)) == 2
    values = spec_secret_values(spec, plan.secret_env)
    assert sorted(values.values()) == ["vvvSECRET", "wwwSECRET"]
    run = with_secret_env(plan, values)
    assert run.env[NAME] == "vvvSECRET"
    assert env_pairs(run.resources.docker_args) == [("API_TOKEN", "wwwSECRET")]


def test_a_plan_with_the_older_key_gets_its_docker_args_value_back() -> None:
    plan = RunPlan(job_name="old", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="env", host_command="env", env={"MODE": "x"}, code_dir="", working_dir="/w",
                   inputs=(), outputs=(), literals={}, timeout_s=None,
                   resources=Resources(docker_args=("-e", f"HF_TOKEN={MASK}")),
                   secret_env=("docker_args -e HF_TOKEN",))
    run = with_secret_env(plan, {"docker_args -e HF_TOKEN": "hf_old"})
    assert env_pairs(run.resources.docker_args) == [("HF_TOKEN", "hf_old")]
    assert run.env == {"MODE": "x"}


def test_job_create_takes_such_a_name(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("command: env\nenvironment: runner/busybox:latest\n"
                                    "compute: local-process\n"
                                    f"environment_variables:\n  \"{NAME}\": vvvSECRET\n")
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(tmp_path / "ws"), "job", "create",
                             "--file", str(tmp_path / "c.yml"), "--name", "c1", "--stream"],
                            capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "internal error" not in out, out
    assert f"{NAME}=vvvSECRET" in result.stdout, out  # the job's own env, as it printed it
