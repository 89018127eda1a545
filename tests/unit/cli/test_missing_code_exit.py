"""Something a job names that does not exist exits 1, as an unknown asset does (docs/guides/ci.md): a
``code:`` folder that is not there, of a command job, of a pipeline step or of a step's component, is
refused by ``job validate`` and ``job create`` alike with exit 1, one message at the ``code:`` line, as a
missing local input path is. A ``code:`` whose value is malformed (not a local folder, a ``file://`` URL
naming another host) is an invalid YAML: exit 2. Each the real CLI in its own process, in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

JOB = "command: ls\ncode: {code}\nenvironment:\n  image: runner/busybox:latest\n"
PIPELINE = ("type: pipeline\nsettings: {{default_compute: local-process}}\njobs:\n  a:\n    type: command\n"
            "    command: ls\n    code: {code}\n    environment: {{image: 'runner/busybox:latest'}}\n")
COMPONENT = ("$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
             "type: command\nname: c\ncommand: ls\ncode: {code}\n"
             "environment:\n  image: runner/busybox:latest\n")
STEP_OF_COMPONENT = ("type: pipeline\nsettings: {default_compute: local-process}\njobs:\n"
                     "  a:\n    component: ./c.yml\n")


def _write(tmp_path: Path, kind: str, code: str) -> tuple[Path, Path]:
    """The file to give ``--file`` and the file holding ``code:``."""
    spec = tmp_path / "spec.yml"
    if kind == "component":
        (tmp_path / "c.yml").write_text(COMPONENT.format(code=code))
        spec.write_text(STEP_OF_COMPONENT)
        return spec, tmp_path / "c.yml"
    spec.write_text((JOB if kind == "job" else PIPELINE).format(code=code))
    return spec, spec


def _code_line(path: Path) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith("code:"))


@pytest.mark.parametrize("verb", ["validate", "create"])
@pytest.mark.parametrize("kind", ["job", "step", "component"])
def test_a_missing_code_folder_exits_1_at_its_line(tmp_path: Path, kind: str, verb: str) -> None:
    spec, holder = _write(tmp_path, kind, "./nope")
    result = cli(tmp_path / "ws", "job", verb, "--file", str(spec))
    assert result.returncode == 1, (result.returncode, result.stderr)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {holder}:{_code_line(holder)}:"), result.stderr
    assert "code folder" in first and "does not exist" in first, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


@pytest.mark.parametrize("code", ["azureml:some-code:1", "file://fileserver/src"])
@pytest.mark.parametrize("kind", ["job", "step"])
def test_a_malformed_code_value_still_exits_2(tmp_path: Path, kind: str, code: str) -> None:
    spec, _ = _write(tmp_path, kind, code)
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(spec))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, result.stderr


def test_a_missing_local_input_exits_1_as_a_missing_code_folder_does(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text(JOB.format(code=".") + "inputs:\n  x: {type: uri_folder, path: ./not-here}\n")
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(spec))
    assert result.returncode == 1 and "does not exist" in result.stderr, result.stderr
