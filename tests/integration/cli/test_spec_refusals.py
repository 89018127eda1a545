"""`runner job validate` refuses, with one error naming the field and the line it was written on: an empty
command, a tmpfs over what runner binds, a bad image, an unknown backend (named as the option)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, write_job

JOB = """\
command: COMMAND
environment:
  image: runner/busybox:latest
resources:
  docker_args: "DOCKER_ARGS"
"""


def _job(folder: Path, command: str = "echo hi", docker_args: str = "--init", image: str = "") -> Path:
    text = JOB.replace("COMMAND", command).replace("DOCKER_ARGS", docker_args)
    if image:
        text = text.replace("runner/busybox:latest", image)
    return write_job(folder, text)


def _refused(ws: Path, *args: str) -> str:
    result = cli(ws, *args)
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert text.startswith("error: ") and "hint:" in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize("command", ['""', '"   "', "''"])
def test_an_empty_command_is_refused_at_its_line(workspace_dir: Path, tmp_path: Path, command: str) -> None:
    job = _job(tmp_path, command)
    for verb in ("validate", "create"):
        text = _refused(workspace_dir, "job", verb, "--file", str(job))
        assert f"{job}:1:" in text and "command" in text and "empty" in text
    assert cli(workspace_dir, "job", "list", "-o", "json").stdout.strip() in ("[]", "")


def test_an_empty_command_from_set_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    text = _refused(workspace_dir, "job", "validate", "--file", str(_job(tmp_path)), "--set", "command=")
    assert "command (from --set command=)" in text and "empty" in text


@pytest.mark.parametrize("path", ["/mnt/runner/outputs/o", "/mnt/runner/code/outputs", "/mnt/runner"])
def test_a_tmpfs_over_the_binds_is_refused_at_its_line(workspace_dir: Path, tmp_path: Path,
                                                       path: str) -> None:
    job = _job(tmp_path, "echo hi", f"--tmpfs {path}")
    text = _refused(workspace_dir, "job", "validate", "--file", str(job))
    assert f"{job}:5:" in text and "resources.docker_args" in text and path in text


@pytest.mark.parametrize("image", ['"Runner/BusyBox:latest"', '""', '"not valid"'])
def test_a_bad_image_is_refused_at_its_own_line(workspace_dir: Path, tmp_path: Path, image: str) -> None:
    job = _job(tmp_path, image=image)
    text = _refused(workspace_dir, "job", "validate", "--file", str(job))
    assert f"{job}:3:" in text and "environment.image" in text and "docker_args" not in text


def test_an_unknown_backend_is_named_as_the_option(workspace_dir: Path, tmp_path: Path) -> None:
    text = _refused(workspace_dir, "job", "create", "--file", str(_job(tmp_path)), "--backend", "bogus")
    assert "--backend" in text and "bogus" in text and "docker_args" not in text and f"{tmp_path}" not in text


def test_an_environment_with_an_invalid_image_is_refused_at_create(workspace_dir: Path) -> None:
    text = _refused(workspace_dir, "environment", "create", "--name", "e3", "--image", "Not Valid")
    assert "image: " in text and "not a valid Docker image name" in text
    assert "e3" not in cli(workspace_dir, "environment", "list", "-o", "json").stdout
