"""One rule for exit codes (docs/guides/ci.md): a file or folder the YAML names that does not exist exits 1,
as a missing input path or code folder does; a malformed value exits 2. A missing ``conda_file:`` (a job's,
an environment YAML's, a pipeline step's, a component's), a missing ``build: path:`` context (a job's, a
step's, a component's), a missing ``component: ./x.yml`` of a pipeline step, and ``runner component
create`` of a component whose code folder is missing: each one message at the line that names it, its hint
kept, exit 1. Each the real CLI in its own process, in tmp_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from jobs_support import cli

ENV = "environment:\n  image: runner/python:3.11\n  conda_file: ./nope.yml\n"
BUILD = "environment:\n  build:\n    path: ./nodir\n"
JOB = "command: ls\n"
STEP = ("type: pipeline\nsettings: {default_compute: local-process}\njobs:\n  a:\n    type: command\n"
        "    command: ls\n")
COMPONENT = ("$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
             "type: command\nname: c\ncommand: ls\n")
IMAGE = "environment:\n  image: runner/busybox:latest\n"


def _indented(text: str, by: int) -> str:
    return "".join(" " * by + line + "\n" for line in text.splitlines())


# name: (files to write {name: text}, the file given to the command, the file and key of the line named,
#        what the message says)
JOBS = {
    "a job's conda_file": ({"spec.yml": JOB + ENV}, "spec.yml", ("spec.yml", "conda_file:"),
                           "conda file '{tmp}/nope.yml' does not exist"),
    "an environment YAML's conda_file": ({"spec.yml": JOB + "environment: file:./env.yml\n",
                                          "env.yml": "image: runner/python:3.11\nconda_file: ./nope.yml\n"},
                                         "spec.yml", ("env.yml", "conda_file:"),
                                         "no conda file at {tmp}/nope.yml"),
    "a job's environment file": ({"spec.yml": JOB + "environment: file:./missing.yml\n"}, "spec.yml",
                                 ("spec.yml", "environment:"),
                                 "environment file '{tmp}/missing.yml' does not exist"),
    "a step's environment file": ({"spec.yml": STEP + "    environment: file:./missing.yml\n"}, "spec.yml",
                                  ("spec.yml", "environment:"),
                                  "step 'a': environment file '{tmp}/missing.yml' does not exist"),
    "a job's build context": ({"spec.yml": JOB + BUILD}, "spec.yml", ("spec.yml", "path:"),
                              "the build context {tmp}/nodir is not a folder"),
    "a step's conda_file": ({"spec.yml": STEP + _indented(ENV, 4)}, "spec.yml", ("spec.yml", "conda_file:"),
                            "step 'a': conda file '{tmp}/nope.yml' does not exist"),
    "a step's build context": ({"spec.yml": STEP + _indented(BUILD, 4)}, "spec.yml", ("spec.yml", "path:"),
                               "step 'a': the build context {tmp}/nodir is not a folder"),
    "a step's component file": ({"spec.yml": "type: pipeline\nsettings: {default_compute: local-process}\n"
                                             "jobs:\n  a:\n    component: ./missing.yml\n"},
                                "spec.yml", ("spec.yml", "component:"),
                                "step 'a': file not found: {tmp}/missing.yml"),
    "a step's component's conda_file": ({"spec.yml": "type: pipeline\nsettings: {default_compute: "
                                                     "local-process}\njobs:\n  a:\n    component: ./c.yml\n",
                                         "c.yml": COMPONENT + ENV},
                                        "spec.yml", ("c.yml", "conda_file:"),
                                        "step 'a': conda file '{tmp}/nope.yml' does not exist"),
}
COMPONENTS = {
    "its code folder": ({"c.yml": COMPONENT + "code: ./nope\n" + IMAGE}, ("c.yml", "code:"),
                        "code '{tmp}/nope' does not exist"),
    "its build context": ({"c.yml": COMPONENT + BUILD}, ("c.yml", "path:"),
                          "environment.build.path '{tmp}/nodir' does not exist"),
    "its conda_file": ({"c.yml": COMPONENT + ENV}, ("c.yml", "conda_file:"),
                       "conda file '{tmp}/nope.yml' does not exist"),
}
ENVIRONMENT_CREATE = {  # runner environment create: a conda file a flag or the --file YAML names
    "--conda-file": ({}, ["--name", "e", "--image", "runner/python:3.11", "--conda-file", "{tmp}/nope.yml"],
                     None),
    "the YAML's conda_file": ({"env.yml": "name: e\nimage: runner/python:3.11\nconda_file: ./nope.yml\n"},
                              ["--file", "{tmp}/env.yml"], ("env.yml", "conda_file:")),
}
# malformed values (a file where a folder is named, a folder where a YAML is, another host's file URL): 2
MALFORMED = {
    "a build context that is a file": ({"spec.yml": JOB + BUILD.replace("./nodir", "./afile"), "afile": "x"},
                                       ["job", "validate"], "is not a folder"),
    "a step's component that is a folder": ({"spec.yml": "type: pipeline\njobs:\n  a:\n    component: ./d\n",
                                             "d/keep": ""},
                                            ["job", "validate"], "is a folder, not a YAML file"),
    "a component's code on another host": ({"c.yml": COMPONENT + "code: file://fileserver/src\n" + IMAGE},
                                           ["component", "create"], "code"),
    "a --file that is not there": ({}, ["job", "validate"], "file not found"),
    "an environment file that is a file, not YAML": ({"spec.yml": JOB + "environment: file:./env.yml\n",
                                                      "env.yml": "- a list\n"}, ["job", "validate"],
                                                     "must be a mapping"),
}


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)


def _line(path: Path, key: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(key))


def _check(result: subprocess.CompletedProcess[str], tmp_path: Path, at: tuple[str, str], said: str) -> None:
    returncode, stderr = result.returncode, result.stderr
    assert returncode == 1, (returncode, stderr)
    holder = tmp_path / at[0]
    first = stderr.splitlines()[0]
    assert first.startswith(f"error: {holder}:{_line(holder, at[1])}:"), stderr
    assert said.format(tmp=tmp_path) in first, stderr
    assert stderr.count("error:") == 1 and "\n  hint: " in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


@pytest.mark.parametrize("verb", ["validate", "create"])
@pytest.mark.parametrize("what", sorted(JOBS))
def test_a_missing_file_a_job_names_exits_1_at_its_line(tmp_path: Path, what: str, verb: str) -> None:
    files, given, at, said = JOBS[what]
    _write(tmp_path, files)
    result = cli(tmp_path / "ws", "job", verb, "--file", str(tmp_path / given))
    _check(result, tmp_path, at, said)


@pytest.mark.parametrize("what", sorted(COMPONENTS))
def test_component_create_of_a_missing_path_exits_1_at_its_line(tmp_path: Path, what: str) -> None:
    files, at, said = COMPONENTS[what]
    _write(tmp_path, files)
    result = cli(tmp_path / "ws", "component", "create", "--file", str(tmp_path / "c.yml"))
    _check(result, tmp_path, at, said)
    listed = cli(tmp_path / "ws", "component", "list", "-o", "json")
    assert listed.returncode == 0 and listed.stdout.strip() in ("", "[]"), listed.stdout  # nothing registered


@pytest.mark.parametrize("what", sorted(ENVIRONMENT_CREATE))
def test_environment_create_of_a_missing_conda_file_exits_1(tmp_path: Path, what: str) -> None:
    files, args, at = ENVIRONMENT_CREATE[what]
    _write(tmp_path, files)
    result = cli(tmp_path / "ws", "environment", "create", *(arg.format(tmp=tmp_path) for arg in args))
    said = "no conda file at {tmp}/nope.yml"
    if at is not None:
        _check(result, tmp_path, at, said)
    else:  # a flag's value: no file or line to name, the flag the user typed
        assert result.returncode == 1, (result.returncode, result.stderr)
        assert result.stderr.startswith("error: --conda-file: " + said.format(tmp=tmp_path)), result.stderr
        assert result.stderr.count("error:") == 1 and "\n  hint: " in result.stderr, result.stderr
    listed = cli(tmp_path / "ws", "environment", "list", "-o", "json")  # nothing registered (or no workspace)
    assert (listed.returncode == 0 and '"e"' not in listed.stdout) or (
        listed.returncode == 1 and "does not exist" in listed.stderr), (listed.stdout, listed.stderr)


def test_environment_create_of_a_conda_file_that_is_a_folder_still_exits_2(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = cli(tmp_path / "ws", "environment", "create", "--name", "e", "--image", "runner/python:3.11",
                 "--conda-file", str(tmp_path / "d"))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith(f"error: --conda-file: no conda file at {tmp_path / 'd'}"), result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("what", sorted(MALFORMED))
def test_a_malformed_value_still_exits_2(tmp_path: Path, what: str) -> None:
    files, command, said = MALFORMED[what]
    _write(tmp_path, files)
    given = tmp_path / ("c.yml" if command[0] == "component" else "spec.yml")
    result = cli(tmp_path / "ws", *command, "--file", str(given))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("error: ") and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
