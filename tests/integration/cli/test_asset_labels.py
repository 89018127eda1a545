"""An unknown label is bad input for every asset kind alike: `runner model|data|environment show --label
bogus` (and a model's or data asset's archive/restore) exit 2 with one message naming the label and the
asset, the one label there is, and what to give instead; `azureml:m@bogus` inside a job spec names its
file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli


@pytest.fixture
def assets(workspace_dir: Path, tmp_path: Path) -> Path:
    (tmp_path / "f.txt").write_text("x")
    for args in (("model", "create", "--name", "m", "--path", str(tmp_path / "f.txt")),
                 ("data", "create", "--name", "d", "--type", "uri_file", "--path", str(tmp_path / "f.txt")),
                 ("environment", "create", "--name", "e", "--image", "runner/busybox:latest")):
        cli(workspace_dir, *args, check=True)
    return workspace_dir


@pytest.mark.parametrize(("args", "noun", "name"), [
    (("model", "show", "--name", "m"), "model", "m"),
    (("model", "archive", "--name", "m"), "model", "m"),
    (("model", "restore", "--name", "m"), "model", "m"),
    (("data", "show", "--name", "d"), "data asset", "d"),
    (("data", "archive", "--name", "d"), "data asset", "d"),
    (("environment", "show", "--name", "e"), "environment", "e"),
])
def test_an_unknown_label_is_bad_input_for_every_kind(assets: Path, args: tuple[str, ...], noun: str,
                                                      name: str) -> None:
    result = cli(assets, *args, "--label", "bogus")
    assert result.returncode == 2, result.stdout + result.stderr
    text = result.stderr
    assert result.stdout == "" and text.startswith("error: ") and "Traceback" not in text
    assert text.count("error: ") == 1
    assert f"unknown label 'bogus' for {noun} '{name}'" in text
    assert "hint: the only label is 'latest'" in text and "--label latest" in text and "--version" in text
    assert f"runner {args[0]} list --name {name}" in text


def test_an_unknown_label_in_a_job_spec_names_its_line(assets: Path, tmp_path: Path) -> None:
    spec = tmp_path / "job.yml"
    spec.write_text("command: cat ${{inputs.m}}\nenvironment: azureml:e@latest\ninputs:\n"
                    "  m:\n    type: uri_file\n    path: azureml:m@bogus\n")
    result = cli(assets, "job", "validate", "--file", str(spec))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{spec}:6:" in result.stderr and "inputs.m.path" in result.stderr
    assert "unknown label 'bogus'" in result.stderr and "latest" in result.stderr
