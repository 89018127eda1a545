"""What a pipeline's record holds: the plan of its steps (``extra["pipeline"]``, written at submission and
read by the orchestrator, which may run in another process) and their state (``extra["steps"]``).

    extra["pipeline"] = {"steps": {<step>: {job, spec, base_dir, depends_on, component, deterministic,
                                            warnings}},
                         "edges": [[source, output, target, input]], "outputs": {<out>: [step, output]},
                         "settings": {...}, "backend": ..., "upload_on_failure": ...}
    extra["steps"] = {<step>: {job, status, reused_from?, error?, note?}}

A step's status is its job's (Queued ... Completed/Failed/Canceled), or ``NotStarted`` / ``Skipped``
for a step that has no job (yet, or at all). A step job's record carries ``spec.parent_job_name``. Once
the pipeline ended, its readers bring the rows up to date from the step jobs' records
(``runner.pipelines.step_rows``: ``follow_steps``, ``follow_all_steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner.errors import SpecError
from runner.file_urls import file_path, is_file_form
from runner.pipelines.graph import PipelineGraph
from runner.pipelines.step_places import Places, step_places
from runner.pipelines.step_rows import NOT_STARTED as NOT_STARTED
from runner.pipelines.step_rows import PIPELINE_KEY as PIPELINE_KEY
from runner.pipelines.step_rows import SKIPPED as SKIPPED
from runner.pipelines.step_rows import STEPS_KEY as STEPS_KEY
from runner.pipelines.step_rows import follow_steps as follow_steps
from runner.pipelines.step_rows import is_pipeline as is_pipeline
from runner.plan.env_secrets import masked_spec, secret_values, secret_warnings, with_spec_values
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import AssetInput
from runner.spec.load import spec_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace, utc_text, utcnow
from runner.workspace.job_secrets import take


@dataclass(frozen=True)
class StepPlan:
    name: str
    job: str
    spec: dict[str, Any]
    base_dir: str
    depends_on: tuple[str, ...]
    component: str
    deterministic: bool
    warnings: tuple[str, ...] | None = None  # the step spec's, at the pipeline file's lines (None: unknown)
    places: Places | None = None  # where each field was written (runner.pipelines.step_places)

    def to_dict(self) -> dict[str, Any]:
        found = {"job": self.job, "spec": masked_spec(self.spec), "base_dir": self.base_dir,  # no secret
                 "depends_on": list(self.depends_on), "component": self.component,
                 "deterministic": self.deterministic}
        if self.places is not None:
            found["places"] = self.places
        return found if self.warnings is None else {**found, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class PipelinePlan:
    steps: dict[str, StepPlan]
    edges: tuple[tuple[str, str, str, str], ...]
    outputs: dict[str, tuple[str, str]]
    continue_on_step_failure: bool
    force_rerun: bool
    backend: str | None
    upload_on_failure: bool
    experiment_name: str | None

    @classmethod
    def from_graph(cls, graph: PipelineGraph, *, backend: str | None, upload_on_failure: bool
                   ) -> PipelinePlan:
        steps = {n.name: StepPlan(n.name, n.job_name, n.spec.to_yaml_dict(), str(n.spec.base_dir),
                                  n.depends_on, n.component_label, n.deterministic, tuple(n.spec.warnings),
                                  step_places(n.spec))
                 for n in graph.steps.values()}
        settings = graph.spec.settings
        return cls(steps, tuple((e.source, e.output, e.target, e.input) for e in graph.edges),
                   dict(graph.outputs), settings.continue_on_step_failure, settings.force_rerun, backend,
                   upload_on_failure, graph.spec.experiment_name)

    def to_extra(self) -> dict[str, Any]:
        return {"steps": {n: s.to_dict() for n, s in self.steps.items()},
                "edges": [list(e) for e in self.edges],
                "outputs": {k: list(v) for k, v in self.outputs.items()},
                "settings": {"continue_on_step_failure": self.continue_on_step_failure,
                             "force_rerun": self.force_rerun},
                "backend": self.backend, "upload_on_failure": self.upload_on_failure,
                "experiment_name": self.experiment_name}

    @classmethod
    def from_extra(cls, data: dict[str, Any]) -> PipelinePlan:
        steps = {n: StepPlan(n, s["job"], s["spec"], s["base_dir"], tuple(s["depends_on"]), s["component"],
                             bool(s["deterministic"]),
                             tuple(s["warnings"]) if isinstance(s.get("warnings"), list) else None,
                             s["places"] if isinstance(s.get("places"), dict) else None)
                 for n, s in data["steps"].items()}
        settings = data.get("settings", {})
        return cls(steps, tuple(tuple(e) for e in data["edges"]),  # type: ignore[misc]
                   {k: (v[0], v[1]) for k, v in data["outputs"].items()},
                   bool(settings.get("continue_on_step_failure")), bool(settings.get("force_rerun")),
                   data.get("backend"), bool(data.get("upload_on_failure", True)),
                   data.get("experiment_name"))

    @classmethod
    def of_record(cls, ws: Workspace, record: JobRecord) -> PipelinePlan:
        """The plan its orchestrator runs: the record's, each step's secret ``environment_variables``
        given their real values again (``kept_env``: taken from the secrets folder, read and removed)."""
        plan = cls.from_extra(record.extra[PIPELINE_KEY])
        kept = take(ws, record.name)
        steps = {name: replace(step, spec=with_spec_values(step.spec, kept.get(name) or {}))
                 for name, step in plan.steps.items()}
        return replace(plan, steps=steps)

    def kept_env(self) -> dict[str, dict[str, str]]:
        """Each step's secret ``environment_variables`` values (``runner.plan.env_secrets``), kept out of
        the record (``to_extra``): what the pipeline keeps in the secrets folder for its orchestrator."""
        found = {n: secret_values(s.spec.get("environment_variables") or {}) for n, s in self.steps.items()}
        return {n: values for n, values in found.items() if values}

    def dependents(self, step: str) -> list[str]:
        """Every step that reads (directly or through others) an output of ``step``, in plan order."""
        found: set[str] = set()
        frontier = [step]
        while frontier:
            current = frontier.pop()
            for source, _, target, _ in self.edges:
                if source == current and target not in found:
                    found.add(target)
                    frontier.append(target)
        return [name for name in self.steps if name in found]


def step_spec(plan: StepPlan) -> CommandJobSpec:
    """The step's command job, as planned at submission; its warnings say where in the pipeline's (or its
    component's) file each was written, as the plan recorded them (the data alone has no source)."""
    spec = spec_from_data(plan.spec, base_dir=Path(plan.base_dir))
    if plan.warnings is not None:
        spec._warnings = list(plan.warnings)
    return spec


def secret_env_warnings(graph: PipelineGraph) -> list[str]:
    """One warning per step with secrets in its ``environment_variables``, at the line they were written
    (``runner.plan.env_secrets``): said when the pipeline is submitted."""
    return [w for n in graph.steps.values()
            for w in secret_warnings(n.spec, tuple(secret_values(n.spec.environment_variables)))]


def parent_of(record: JobRecord) -> str | None:
    parent = record.spec.get("parent_job_name")
    return parent if isinstance(parent, str) else None


def _shown_path(spec: CommandJobSpec, path: str) -> str:
    """A local path as a job record shows it (absolute; its ``file:`` forms read as a path's,
    ``runner.file_urls``); any other reference as written."""
    if path.startswith(("azureml:", "runs:")) or ("://" in path and not is_file_form(path)):
        return path
    try:
        local = file_path(path, None)
    except SpecError:  # another host's: refused when the pipeline was checked
        return path
    return str((spec.base_dir / local).resolve())


def reused_record(ws: Workspace, plan: StepPlan, spec: CommandJobSpec, earlier: str,
                  experiment_name: str | None) -> JobRecord:
    """The record of a step that is not run because job ``earlier`` did the same: Completed, with that
    job's outputs (and a note saying so)."""
    source = ws.get_job(earlier)
    now = utcnow()
    inputs = {name: _shown_path(spec, value.path) for name, value in spec.inputs.items()
              if isinstance(value, AssetInput) and value.path is not None}
    return JobRecord(
        name=plan.job, display_name=plan.name, experiment_name=experiment_name, status=JobStatus.COMPLETED,
        created_at=now, started_at=now, ended_at=now, spec=masked_spec(spec.to_yaml_dict()), inputs=inputs,
        outputs=dict(source.outputs), image=source.image, image_id=source.image_id, backend=source.backend,
        job_dir=str(ws.job_dir(plan.job)),
        extra={"reused_from": earlier, "status_times": {JobStatus.COMPLETED.value: utc_text(now)},
               "literals": source.extra.get("literals", {})})
