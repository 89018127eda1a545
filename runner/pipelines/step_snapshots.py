"""A pipeline's warning, when it is submitted, for the runner workspaces its steps' code snapshots leave
out (``runner.workspace.snapshot_rules``): a command job's warning (``runner.jobs.submit``), once per
code folder, naming the steps that snapshot it (``(steps a, b)``, as the pipeline's other step warnings).

    warnings = snapshot_warnings(ws, graph, walked)   # in the pipeline's record: its log, `job show`, ...

``walked``: the warning of each code folder a step's own check walked already (a step with no upstream
step is checked as a command job: ``runner.pipelines.submit``), keyed by ``local_code``; only the other
folders are walked here, so each step's code folder is walked once per submission. Each step's own
record says the warning again when the step is submitted. A code folder that cannot be read, or is not
local, gives no warning here: the step's checks and its snapshot say what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from runner.errors import SpecError
from runner.file_urls import file_path
from runner.pipelines.graph import PipelineGraph, StepNode
from runner.spec.job import CommandJobSpec
from runner.workspace.db import Workspace
from runner.workspace.snapshot_rules import checked_rules, workspace_warning


def snapshot_warnings(ws: Workspace, graph: PipelineGraph,
                      walked: Mapping[Path, str | None] | None = None) -> list[str]:
    """One warning per local code folder of ``graph``'s steps that holds a runner workspace."""
    sharing: dict[Path, list[StepNode]] = {}
    for node in graph.steps.values():
        source = local_code(node.spec)
        if source is not None:
            sharing.setdefault(source, []).append(node)
    warnings = []
    for source, nodes in sharing.items():
        if walked is not None and source in walked:
            warning = walked[source]
        else:
            target = ws.job_dir(nodes[0].job_name).code  # where a snapshot goes (the others' are beside it)
            try:
                warning = workspace_warning(source, checked_rules(source, target=target)[0]) \
                    if source.is_dir() else None
            except (OSError, SpecError):
                continue
        if warning:
            steps = [node.name for node in nodes]
            warnings.append(f"{warning} (step{'s' if len(steps) > 1 else ''} {', '.join(steps)})")
    return warnings


def local_code(spec: CommandJobSpec) -> Path | None:
    """The step's code folder on this machine, as its plan names it (None: none, or not local)."""
    if not spec.code or spec.code.startswith(("azureml:", "http://", "https://")):
        return None
    try:
        return (spec.base_dir / file_path(spec.code, "code")).resolve()
    except (SpecError, OSError):
        return None
