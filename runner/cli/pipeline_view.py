"""How ``runner job ...`` shows pipelines: ``validate`` prints the graph, ``show`` lists the steps,
``list`` folds each pipeline's step jobs under it, the execution summary names each step's end."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from runner.cli import _common

if TYPE_CHECKING:
    from runner.spec.pipeline import PipelineJobSpec
    from runner.workspace.db import JobRecord

CHILD_MARK = "└ "


def validate(spec: PipelineJobSpec, *, name: str | None, output: str, query: str | None = None,
             backend: str | None = None) -> None:
    """``job validate`` / ``job create --dry-run`` of a pipeline: the graph, as text or data (``-o json``,
    ``yaml``, ``tsv``, ``--query``), its steps checked on ``backend`` (``--backend``) as create does."""
    from runner.pipelines.render import pipeline_dict, render_pipeline  # start-up cost
    from runner.pipelines.submit import validate_pipeline
    from runner.workspace.db import Workspace

    graph, locations, reuse = validate_pipeline(Workspace(_common.STATE.workspace), spec, name=name,
                                                backend=backend)
    if output != "table" or query is not None:
        _common.emit(pipeline_dict(graph, locations, reuse), output, [], query)
    else:
        click.echo(render_pipeline(graph, locations, reuse))


def steps_of(record: JobRecord) -> dict[str, dict[str, Any]]:
    steps = record.extra.get("steps") if record.spec.get("type") == "pipeline" else None
    return steps if isinstance(steps, dict) else {}


def _step_text(state: dict[str, Any]) -> str:
    """A step's end, naming only jobs that exist: a skipped or never started step made none."""
    if state.get("status") in ("Skipped", "NotStarted"):  # (runner.pipelines.record: no job record)
        return f"{state['status']}  (no job{': ' + state['note'] if state.get('note') else ''})"
    text = f"{state.get('status')}  job {state.get('job')}"
    if state.get("reused_from"):
        text += f"  (reused from job {state['reused_from']})"
    elif state.get("note"):
        text += f"  ({state['note']})"
    return text


def show_rows(record: JobRecord) -> list[tuple[str, Any]]:
    """``job show``'s rows for a pipeline's steps and for a step job's parent."""
    rows: list[tuple[str, Any]] = [(f"step.{name}", _step_text(state))
                                   for name, state in steps_of(record).items()]
    parent = record.spec.get("parent_job_name")
    if parent:
        rows.append(("parent_job_name", parent))
    if record.extra.get("reused_from"):
        rows.append(("reused_from", record.extra["reused_from"]))
    return rows


def summary_lines(record: JobRecord) -> list[str]:
    return [f"Step {name}: {_step_text(state)}" for name, state in steps_of(record).items()]


def folded(records: Sequence[JobRecord], children: Mapping[str, Sequence[JobRecord]]
           ) -> list[tuple[JobRecord, str]]:
    """Each top-level record, then (indented) its step jobs: (record, the name to show)."""
    rows: list[tuple[JobRecord, str]] = []
    for record in records:
        rows.append((record, record.name))
        kids = children.get(record.name, [])
        rows += [(kid, f"  {CHILD_MARK}{kid.name}" + (" (reused)" if kid.extra.get("reused_from") else ""))
                 for kid in kids]
    return rows
