"""Submitting a pipeline walks each step's code folder once (``checked_rules``): a step checked as a
command job (no upstream step) gives its walk to the pipeline's snapshot warning, which walks only the
folders no step's check walked; the warning is the same (one per folder, naming its steps).

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from runner.jobs import submit as job_submit
from runner.pipelines import step_snapshots
from runner.pipelines import submit as pipeline_submit
from runner.pipelines.submit import submit_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace
from runner.workspace.snapshot_rules import checked_rules

PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  first:
    type: command
    code: ./first
    command: echo first
    environment: {image: runner/busybox:latest}
    outputs: {out: {type: uri_folder}}
  second:
    type: command
    code: ./second
    command: echo ${{inputs.x}}
    inputs: {x: '${{parent.jobs.first.outputs.out}}'}
    environment: {image: runner/busybox:latest}
  third:
    type: command
    code: ./first
    command: echo third
    environment: {image: runner/busybox:latest}
"""


def _walks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """``checked_rules`` calls, by the folder walked, wherever the submission calls it from."""
    walked: Counter[str] = Counter()

    def counting(source: Path, *args: Any, **kwargs: Any) -> Any:
        walked[Path(source).resolve().name] += 1
        return checked_rules(source, *args, **kwargs)

    for module in (job_submit, step_snapshots, pipeline_submit):
        if hasattr(module, "checked_rules"):
            monkeypatch.setattr(module, "checked_rules", counting)
    return walked


def test_each_step_folder_is_walked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for step in ("first", "second"):
        (tmp_path / step).mkdir()
        (tmp_path / step / "main.py").write_text("print(1)\n")
    ws = Workspace(tmp_path / "first" / "ci-ws")  # inside first's code: its snapshot leaves it out
    (tmp_path / "p.yml").write_text(PIPELINE)
    monkeypatch.setattr(pipeline_submit, "start_orchestrator", lambda ws, name: 0)
    walked = _walks(monkeypatch)
    record = submit_pipeline(ws, load_pipeline_spec(tmp_path / "p.yml"), name="p")
    # first and third share ./first, each checked as a job (each its own walk); second: the warning's only
    assert walked == {"first": 2, "second": 1}
    left_out = [w for w in record.extra["warnings"] if "leaves out" in w]
    assert len(left_out) == 1 and "'ci-ws'" in left_out[0] and left_out[0].endswith("(steps first, third)")
