"""A secret given as a container variable in ``resources.docker_args`` (``-e DB_PASSWORD=...``,
``--env=API_TOKEN=...``, a connection string under any name) runs as written, as in Azure ML: the
container gets the same variable with the same value (docker_args still winning over
``environment_variables``), while nothing runner records or prints holds it: the job's spec and plan show
``NAME=***`` in docker_args, the value waits in the workspace's owner-only secrets folder with the
``environment_variables`` secrets until the run puts it back, and one warning at the docker_args line names
the variable, never its value. ``-e NAME=***`` under a secret's name is what runner shows, not a value:
refused, as in ``environment_variables``. A pipeline's record cannot keep a step's docker_args value apart,
so a step's is refused before anything is queued. Variables that are no secret, and every other option,
stay as written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runner.backends.container_args import container_args
from runner.backends.docker_args import parse_docker_args
from runner.errors import JobError, SpecError
from runner.jobs.submit import submit_job
from runner.plan.build import build_plan
from runner.plan.env_secrets import MASK, masked_spec, refuse_shown_mask, with_secret_env
from runner.plan.stored import plan_from_dict
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.job_secrets import kept_file, take
from runner.workspace.jobdir import JobDir

SECRET_VALUES = ("SECRETTOKEN1", "SECRETPW2", "SUPERSECRETKEY", "ENVSECRET4")
JOB = """\
command: env
environment: {image: runner/busybox:latest}
compute: local
resources:
  docker_args: -e MODE=fast -e API_TOKEN=SECRETTOKEN1 --env=DB_PASSWORD=SECRETPW2 --shm-size 1g
"""


def _cli(ws: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "--workspace", str(ws), *args], capture_output=True,
                            text=True, timeout=120, check=False, env=env, cwd=ws.parent)
    return result.returncode, result.stdout + result.stderr


def _spec(tmp_path: Path, docker_args: str | list[str], **more: object) -> CommandJobSpec:
    return spec_from_data({"command": "env", "environment": {"image": "runner/busybox:latest"},
                           "resources": {"docker_args": docker_args}, **more}, base_dir=tmp_path)


def _plan(spec: CommandJobSpec, tmp_path: Path) -> RunPlan:
    return build_plan(spec, job_name="j1", job_dir=JobDir(tmp_path / "jobs" / "j1"), inputs={}, outputs={},
                      environment=ResolvedEnvironment("runner/busybox:latest"))


def _clean(text: str) -> bool:
    return not any(secret in text for secret in SECRET_VALUES)


VERBS = [("job", "validate"), ("job", "create", "--dry-run"), ("job", "validate", "-o", "json"),
         ("job", "create", "--dry-run", "-o", "json")]


@pytest.mark.parametrize("verb", VERBS)
def test_a_secret_in_docker_args_env_runs_and_is_never_shown(tmp_path: Path, verb: tuple[str, ...]) -> None:
    (tmp_path / "j.yml").write_text(JOB)
    code, out = _cli(tmp_path / "ws", *verb, "--file", str(tmp_path / "j.yml"), "--name", "j1")
    assert code == 0, out
    assert "error:" not in out and "Traceback" not in out
    said = [line for line in out.splitlines() if "docker_args set" in line]
    assert said and all("j.yml:5:" in line and "API_TOKEN, DB_PASSWORD" in line for line in said), out
    assert "API_TOKEN=***" in out and "--env=DB_PASSWORD=***" in out and "MODE=fast" in out, out
    assert _clean(out), out
    assert not (tmp_path / "ws" / "jobs" / "j1").exists()


def test_the_record_holds_no_value_and_the_container_gets_it(tmp_path: Path) -> None:
    from runner.workspace.db import Workspace

    ws = Workspace(tmp_path / "ws")
    spec = _spec(tmp_path, "-e MODE=fast -e API_TOKEN=SECRETTOKEN1 --env=DB_PASSWORD=SECRETPW2 --shm-size 1g")
    wanted = parse_docker_args(spec.resources.docker_args)  # what the container got before, as written
    record = submit_job(ws, spec, name="j1", backend="docker")
    database = b"".join(path.read_bytes() for path in (tmp_path / "ws").glob("runner.db*"))
    assert _clean(record.model_dump_json()) and _clean(database.decode("latin-1"))
    assert record.spec["resources"]["docker_args"] == ["-e", "MODE=fast", "-e", f"API_TOKEN={MASK}",
                                                       f"--env=DB_PASSWORD={MASK}", "--shm-size", "1g"]
    stored = plan_from_dict(record.extra["plan"])
    assert stored.resources.docker_args == tuple(record.spec["resources"]["docker_args"])
    assert len([w for w in record.extra["warnings"] if "API_TOKEN, DB_PASSWORD" in w]) == 1
    kept = json.loads(kept_file(ws, "j1").read_text())  # the owner-only secrets file holds the values
    assert sorted(kept.values()) == ["SECRETPW2", "SECRETTOKEN1"]
    run = with_secret_env(stored, take(ws, "j1"))  # as the run puts them back
    assert parse_docker_args(run.resources.docker_args) == wanted
    assert container_args(run, [])["environment"]["API_TOKEN"] == "SECRETTOKEN1"
    assert container_args(run, [])["shm_size"] == "1g"


def test_a_ray_job_carries_them_in_its_package_to_the_nodes_run(tmp_path: Path) -> None:
    from runner.jobs.node import _queue
    from runner.jobs.ray_submit import _payload
    from runner.plan.env_secrets import spec_secret_values
    from runner.workspace.computes import RayCompute
    from runner.workspace.db import Workspace

    ws = Workspace(tmp_path / "ws")
    spec = _spec(tmp_path, "-e API_TOKEN=SECRETTOKEN1 --env=DB_PASSWORD=SECRETPW2")
    record = submit_job(ws, spec, name="j1", backend="docker")
    plan = plan_from_dict(record.extra["plan"])
    secrets = spec_secret_values(spec, plan.secret_env)  # what submit_ray_job packages for the node
    payload = _payload(ws, record, plan, RayCompute(name="r", address="http://127.0.0.1:1"), secrets)
    assert _clean(json.dumps(payload["plan"]))
    node = Workspace(tmp_path / "node")
    (tmp_path / "pkg").mkdir()
    name = _queue(node, json.loads(json.dumps(payload)), tmp_path / "pkg")
    assert _clean(node.get_job(name).model_dump_json())
    run = with_secret_env(plan_from_dict(node.get_job(name).extra["plan"]), take(node, name))
    assert parse_docker_args(run.resources.docker_args) == parse_docker_args(spec.resources.docker_args)


def test_docker_args_still_win_over_environment_variables(tmp_path: Path) -> None:
    """The same name in environment_variables and docker_args: the container gets docker_args' (as docker
    merges them), a host process environment_variables' (docker_args do not apply there); both kept."""
    spec = _spec(tmp_path, ["-e API_TOKEN=SECRETTOKEN1", "-e", "MODE=AccountKey=SUPERSECRETKEY"],
                 environment_variables={"API_TOKEN": "ENVSECRET4", "MODE": "slow",
                                        "OTHER_TOKEN": "SECRETPW2"})
    plan = _plan(spec, tmp_path)
    assert _clean(json.dumps(plan.to_dict()))
    run = with_secret_env(plan, _kept(spec, plan))
    environment = container_args(run, [])["environment"]
    assert environment["API_TOKEN"] == "SECRETTOKEN1" and environment["MODE"] == "AccountKey=SUPERSECRETKEY"
    assert environment["OTHER_TOKEN"] == "SECRETPW2"
    assert run.host_env["API_TOKEN"] == "ENVSECRET4" and run.host_env["MODE"] == "slow"


def _kept(spec: CommandJobSpec, plan: RunPlan) -> dict[str, str]:
    from runner.plan.env_secrets import spec_secret_values

    return spec_secret_values(spec, plan.secret_env)


def test_a_secret_value_under_a_neutral_name_and_in_list_items_is_masked(tmp_path: Path) -> None:
    spec = _spec(tmp_path, ["--shm-size 1g", "-e STORAGE=AccountName=a;AccountKey=SUPERSECRETKEY", "-e",
                            "API_TOKEN=SECRETTOKEN1"])
    plan = _plan(spec, tmp_path)
    assert plan.resources.docker_args == ("--shm-size 1g", f"-e STORAGE={MASK}", "-e", f"API_TOKEN={MASK}")
    assert _clean(json.dumps(plan.to_dict())) and _clean(json.dumps(masked_spec(spec.to_yaml_dict())))
    run = with_secret_env(plan, _kept(spec, plan))
    assert run.resources.docker_args[2:] == ("-e", "API_TOKEN=SECRETTOKEN1")
    assert parse_docker_args(run.resources.docker_args) == parse_docker_args(spec.resources.docker_args)


def test_variables_that_are_no_secret_pass_untouched(tmp_path: Path) -> None:
    args = "-e MODE=fast --env TOKENIZERS_PARALLELISM=false --shm-size 1g -e EMPTY_TOKEN="
    spec = _spec(tmp_path, args)
    plan = _plan(spec, tmp_path)
    assert plan.resources.docker_args == tuple(spec.resources.docker_args) == tuple(args.split())
    assert plan.secret_env == () and not any("docker_args" in w for w in plan.warnings)
    assert masked_spec(spec.to_yaml_dict())["resources"]["docker_args"] == args.split()


def test_masked_spec_masks_docker_args_at_any_depth_as_written() -> None:
    data: dict[str, Any] = {"jobs": {
        "a": {"resources": {"docker_args": "--cpus 1 -e DB_PASSWORD=SECRETPW2"}},
        "b": {"resources": {"docker_args": ["-e MODE=x", "-e HF_TOKEN=SECRETTOKEN1"]}}}}
    shown = masked_spec(data)
    assert shown["jobs"]["a"]["resources"]["docker_args"] == f"--cpus 1 -e DB_PASSWORD={MASK}"
    assert shown["jobs"]["b"]["resources"]["docker_args"] == ["-e MODE=x", f"-e HF_TOKEN={MASK}"]
    assert data["jobs"]["b"]["resources"]["docker_args"][1] == "-e HF_TOKEN=SECRETTOKEN1"  # a copy


def test_a_shown_mask_in_docker_args_is_refused(tmp_path: Path) -> None:
    (tmp_path / "j.yml").write_text(JOB.replace("SECRETTOKEN1", "'***'").replace("SECRETPW2", "'***'"))
    code, out = _cli(tmp_path / "ws", "job", "validate", "--file", str(tmp_path / "j.yml"))
    assert code == 2, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "j.yml:5:" in errors[0] and "API_TOKEN" in errors[0], out
    assert MASK in errors[0] and "hint:" in out and "Traceback" not in out
    refuse_shown_mask(_spec(tmp_path, f"-e MODE={MASK} -e API_TOKEN=x{MASK}"), {})  # a value like any


def test_a_missing_value_is_one_error_naming_the_variable(tmp_path: Path) -> None:
    plan = _plan(_spec(tmp_path, "-e API_TOKEN=SECRETTOKEN1"), tmp_path)
    with pytest.raises(JobError) as raised:
        with_secret_env(plan, {})
    assert "API_TOKEN" in str(raised.value) and "docker_args" in str(raised.value)


PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  first:
    type: command
    command: echo one > ${{outputs.o}}/one.txt
    environment: {image: runner/python:3.11}
    outputs: {o: {type: uri_folder}}
  second:
    type: command
    command: cat ${{inputs.i}}/one.txt
    environment: {image: runner/python:3.11}
    inputs:
      i: ${{parent.jobs.first.outputs.o}}
    resources:
      docker_args: -e API_TOKEN=SECRETTOKEN1
"""


def test_a_pipeline_steps_docker_args_secret_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(PIPELINE)
    for verb in (("job", "validate"), ("job", "create")):
        code, out = _cli(tmp_path / "ws", *verb, "--file", str(tmp_path / "p.yml"), "--name", "p1")
        assert code == 2, out
        errors = [line for line in out.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "p.yml:16:" in errors[0] and "API_TOKEN" in errors[0], out
        assert "environment_variables" in out and "Traceback" not in out and _clean(out)
    assert not (tmp_path / "ws" / "jobs" / "p1").exists()


def test_spec_field_is_named_for_a_python_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as raised:
        refuse_shown_mask(_spec(tmp_path, ["-e", f"DB_PASSWORD={MASK}"]), {})
    assert raised.value.field is not None and "docker_args" in raised.value.field
