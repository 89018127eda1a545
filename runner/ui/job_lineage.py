"""What a job's page says of the versions registered from its outputs: those its record lists (the ones
the job registered as it ended; a pipeline's, those of its steps) and those the registry names it the
lineage of (a version's ``job_name``: registered afterwards from ``azureml://jobs/<job>/outputs/<o>`` by
``runner model create``, the Register form or ``ml_client``), each once, each with whether it is archived.
And the other way, what a version's page warns of its job: registered from the output of a job that
ended Failed or Canceled, it may be partial (the warning its registration gave:
``runner.workspace.job_output_state``).

    registered_versions(workspace, job, ["p-train"])  # {"registered_models": [...], "registered_data": ...}
    version_warnings(workspace, model)                 # ["job 'j' ended Canceled: its output 'o' may be ..."]
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from runner.errors import RunnerError
from runner.jobs.operations import Job
from runner.jobs.register import REGISTERED_ARCHIVED
from runner.uris import JobOutputPath, parse_path
from runner.workspace.assets import AssetStore
from runner.workspace.data_assets import DataAssetStore
from runner.workspace.db import Workspace
from runner.workspace.job_output_state import partial_warning
from runner.workspace.models import ModelStore


def asset_link(ref: str | None) -> dict[str, str] | None:
    """``{"name", "version"}`` of a workspace asset (``model:<name>:<version>`` or ``azureml:n:v``)."""
    if not ref:
        return None
    kind, _, rest = ref.partition(":")
    name, _, version = rest.rpartition(":")
    if kind in ("model", "azureml") and name and version and "/" not in name:
        return {"name": name, "version": version}
    return None


def registered_versions(workspace: Workspace, job: Job, step_jobs: list[str]
                        ) -> dict[str, list[dict[str, Any]]]:
    """The model and data versions registered from the outputs of ``job`` (and of its ``step_jobs``, for
    a pipeline): its record's first, in its order, then the registry's others, oldest first."""
    notes = job.extra.get(REGISTERED_ARCHIVED)
    notes = notes if isinstance(notes, dict) else {}
    jobs = [job.name, *step_jobs]
    models, data = ModelStore(workspace), DataAssetStore(workspace)
    model_refs = [*job.registered_models, *_lineage(models, jobs)]
    data_refs = [*job.registered_data, *_lineage(data, jobs)]
    return {"registered_models": registered_rows(models, model_refs, notes, "model"),
            "registered_data": registered_rows(data, data_refs, notes, "data")}


def _lineage(store: AssetStore[Any], jobs: list[str]) -> list[str]:
    """``azureml:<name>:<version>`` of every workspace version whose lineage is one of ``jobs``."""
    marks = ", ".join("?" for _ in jobs)
    with store.workspace.reading() as conn:
        rows = conn.execute(f"SELECT name, version FROM {store.table.versions} WHERE job_name IN ({marks}) "
                            "AND instr(name, '/') = 0 ORDER BY created_at, rowid", jobs).fetchall()
    return [store.reference(row["name"], row["version"]) for row in rows]


def registered_rows(store: AssetStore[Any], refs: list[str], notes: dict[str, str], key: str
                    ) -> list[dict[str, Any]]:
    """Each version once, with whether it is archived now (the version or its whole asset, as the
    registry says; the record's note when the registry cannot say) and, while it is archived because it
    was born under an archived asset (no archive action since), why (``extra["registered_archived"]``):
    archived again by hand, the birth is no longer the reason."""
    rows = []
    for ref in dict.fromkeys(refs):
        link = asset_link(ref)
        archived = born = ref in notes
        if link is not None:
            with suppress(RunnerError):  # not in the registry (any longer): the record is all there is
                archived = bool(store.get(link["name"], version=link["version"]).archived)
                born = store.archived_at_birth(link["name"], link["version"])
        rows.append({"ref": ref, key: link, "archived": archived,
                     "note": notes.get(ref) if archived and born else None})
    return rows


def version_warnings(workspace: Workspace, asset: Any) -> list[str]:
    """What the registration of a version from a job's output warned of, as its job's record says now:
    [] for any other version."""
    with suppress(RunnerError):
        ref = parse_path(asset.path or "", field="path")
        if isinstance(ref, JobOutputPath) and ref.job == asset.job_name and workspace.job_exists(ref.job):
            warning = partial_warning(workspace.get_job(ref.job), ref.output)
            return [warning] if warning else []
    return []
