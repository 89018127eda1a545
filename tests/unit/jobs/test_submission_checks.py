"""What ``job create`` refuses, ``job validate`` refuses too, with the same one message (issue 20):
the backend's own checks (``docker_args`` sizes), a missing build context or code folder, reserved or
colliding output names, names too long for a folder, versions too large for the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends.docker_args import parse_docker_args
from runner.errors import ResolveError, SpecError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.spec.load import load_job_spec
from runner.spec.names import MAX_JOB_NAME, job_name_problem
from runner.workspace.db import Workspace


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.yml"
    path.write_text(text)
    return path


def _validate(ws: Workspace, path: Path) -> None:
    """What ``job validate`` does (runner.cli.job.plan_spec)."""
    spec = load_job_spec(path)
    check_submission(spec, plan_job(spec, workspace=ws, job_name="v1"), backend=None)


def _create(ws: Workspace, path: Path) -> None:
    """What ``job create`` does before it runs anything."""
    submit_job(ws, load_job_spec(path), name="c1")


@pytest.mark.parametrize(("text", "field", "words"), [
    ("command: echo\nenvironment: {image: busybox:latest}\nresources:\n  docker_args: --memory lots\n",
     "resources.docker_args", "--memory 'lots' is not a size"),
    ("command: echo\nenvironment: {image: busybox:latest}\nresources:\n  docker_args: --shm-size=1x\n",
     "resources.docker_args", "--shm-size '1x' is not a size"),
    ("command: echo\nenvironment: {image: busybox:latest}\nresources:\n  docker_args: --cpus inf\n",
     "resources.docker_args", "--cpus 'inf' is not"),
    ("command: echo\nenvironment:\n  build:\n    path: .\n", "environment.build.path", "has no Dockerfile"),
    ("command: echo\nenvironment:\n  build:\n    path: .\n    dockerfile_path: ../../etc/passwd\n",
     "environment.build.path", "outside the build context"),
    ("command: echo\ncode: azureml:code:1\nenvironment: {image: busybox:latest}\n", "code",
     "is not a local folder"),
])
def test_validate_refuses_what_create_refuses(tmp_path: Path, text: str, field: str, words: str) -> None:
    ws = Workspace(tmp_path / "ws")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as validated:
        _validate(ws, path)
    with pytest.raises(SpecError) as created:
        _create(ws, path)
    assert validated.value.render() == created.value.render()
    assert words in validated.value.message and validated.value.field == field
    assert validated.value.where is not None and validated.value.where.line is not None
    assert not ws.job_exists("c1")  # refused before it was queued


@pytest.mark.parametrize(("text", "field", "words"), [
    ("command: echo\ncode: ./missing\nenvironment: {image: busybox:latest}\n", "code", "does not exist"),
    ("command: echo\nenvironment:\n  build:\n    path: ./missing\n", "environment.build.path",
     "is not a folder"),
])
def test_validate_refuses_a_missing_code_folder_as_create_does(tmp_path: Path, text: str, field: str,
                                                               words: str) -> None:
    """Named but not there (a code folder, a build context): a ResolveError (exit 1, as a missing input
    path), not an invalid YAML."""
    ws = Workspace(tmp_path / "ws")
    path = _write(tmp_path, text)
    with pytest.raises(ResolveError) as validated:
        _validate(ws, path)
    with pytest.raises(ResolveError) as created:
        _create(ws, path)
    assert validated.value.render() == created.value.render() and validated.value.exit_code == 1
    assert words in validated.value.message and validated.value.field == field
    assert validated.value.where is not None and validated.value.where.line is not None
    assert not ws.job_exists("c1")  # refused before it was queued


@pytest.mark.parametrize(("text", "words"), [
    ("command: echo\nenvironment: img\noutputs:\n  artifacts: {type: uri_folder}\n", "reserved name"),
    ("command: echo\nenvironment: img\noutputs:\n  " + "o" * 256 + ": {type: uri_folder}\n",
     "256 characters long"),
    ("command: echo\nenvironment: img\noutputs:\n  m: {type: custom_model, name: m, version: "
     + "9" * 30 + "}\n", "too large"),
    ("command: echo\nenvironment: img\noutputs:\n  m: {type: custom_model, name: '../x'}\n",
     "invalid model name"),
    ("command: echo\nenvironment: img\ninputs:\n  x: 1\n  X: 2\n", "inputs 'x' and 'X' are one name"),
    ("command: echo\nenvironment: img\noutputs:\n  a-b: {}\n  a_b: {}\n",
     "outputs 'a-b' and 'a_b' are one name"),
])
def test_spec_checks_shared_by_validate_and_create(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(SpecError) as err:
        load_job_spec(_write(tmp_path, text))
    assert words in err.value.render()


def test_an_input_and_an_output_may_share_a_name(tmp_path: Path) -> None:
    text = "command: cp ${{inputs.x}}/a ${{outputs.x}}\nenvironment: img\ninputs:\n  x: {type: uri_folder, " \
           "path: data}\noutputs:\n  x: {type: uri_folder}\n"
    spec = load_job_spec(_write(tmp_path, text))
    assert list(spec.inputs) == ["x"] and list(spec.outputs) == ["x"]


def test_a_255_character_output_name_is_accepted(tmp_path: Path) -> None:
    name = "o" * 255
    spec = load_job_spec(_write(tmp_path, f"command: echo\nenvironment: img\noutputs:\n  {name}: {{}}\n"))
    assert list(spec.outputs) == [name]


def test_job_names_fit_the_artifacts_folder() -> None:
    assert job_name_problem("j" * MAX_JOB_NAME) is None
    assert "at most 250" in (job_name_problem("j" * (MAX_JOB_NAME + 1)) or "")
    assert len(f"dcid.{'j' * MAX_JOB_NAME}") <= 255


@pytest.mark.parametrize("good", ["--memory 2g", "--memory=512m", "-m 1.5g", "--memory-swap -1",
                                  "--shm-size 64m", "--memory 1048576"])
def test_docker_sizes_the_engine_takes(good: str) -> None:
    parse_docker_args([good])


@pytest.mark.parametrize("bad", ["--memory lots", "--memory -1", "--memory 1GiB", "--memory infg",
                                 "--memory nang", f"--memory {10**30}g", "--memory-swap -2",
                                 "--cpus nan", "--cpus -1", "--cpus 0"])
def test_docker_sizes_the_engine_refuses(bad: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_docker_args([bad])
    assert err.value.field == "resources.docker_args"
