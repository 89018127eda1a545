"""MLflow inside a job: a pre-created file-store run whose artifacts become the job's ``artifacts`` output.

Azure ML gives every job an MLflow run whose id is the job name; ``mlflow.log_model(...)`` inside the job
lands in the job's artifacts, and ``runs:/<job>/<path>`` resolves to them afterwards. Here:

- ``<job_dir>/mlruns`` is an MLflow file store with one experiment (id ``0``) and one run (id = the job
  name), written by hand (the package never imports mlflow);
- the run's ``artifact_uri`` is the folder of the job's ``artifacts`` output (which also collects
  ``./outputs``, ``./logs`` and ``user_logs/``);
- ``MLFLOW_TRACKING_URI`` / ``MLFLOW_RUN_ID`` / ``MLFLOW_EXPERIMENT_ID`` point the job at that run.

MLflow 3 stores ``log_model`` output as a *logged model* under the experiment
(``mlruns/0/models/<model_id>/artifacts``) rather than under the run; ``collect_logged_models`` copies
each model logged by the run into ``artifacts/<model name>/`` so ``runs:/<job>/<name>`` works as in MLflow 2.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from runner.plan.types import CONTAINER_ARTIFACTS, CONTAINER_MLRUNS
from runner.workspace.jobdir import JobDir
from runner.workspace.nofollow import (
    Folder,
    Links,
    copy_folder,
    lstat,
    open_child,
    open_folder,
    read_text,
    replace_text,
)

log = logging.getLogger(__name__)

EXPERIMENT_ID = "0"
RUN_STATUS = {"RUNNING": 1, "FINISHED": 3, "FAILED": 4, "KILLED": 5}


@dataclass(frozen=True)
class MlflowRun:
    """The file-store run prepared for one job."""

    mlruns: Path  # host folder of the file store
    artifacts: Path  # host folder of the run's artifacts (the job's artifacts staging)
    run_id: str
    artifact_uri: str = ""  # as the job sees its artifacts
    start_ms: int = 0

    @property
    def run_dir(self) -> Path:
        return self.mlruns / EXPERIMENT_ID / self.run_id

    def env(self, *, in_container: bool) -> dict[str, str]:
        """The MLflow variables for the job (container paths, or host paths for the process backend)."""
        root = CONTAINER_MLRUNS if in_container else str(self.mlruns)
        return {
            "MLFLOW_TRACKING_URI": f"file://{root}",
            "MLFLOW_RUN_ID": self.run_id,
            "MLFLOW_EXPERIMENT_ID": EXPERIMENT_ID,
        }


def _yaml_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def prepare_run(job_dir: JobDir, job_name: str, experiment_name: str | None, *, in_container: bool,
                artifacts: Path) -> MlflowRun:
    """Write the file store (experiment + RUNNING run) under ``job_dir``; return where it is.

    ``artifacts`` is the host folder that becomes the job's artifacts; in a container it is bound at
    ``/mnt/runner/artifacts``.
    """
    mlruns = job_dir.mlruns
    now = int(time.time() * 1000)
    mlruns_uri = f"file://{CONTAINER_MLRUNS if in_container else mlruns}"
    artifacts_uri = f"file://{CONTAINER_ARTIFACTS if in_container else artifacts}"
    run = MlflowRun(mlruns=mlruns, artifacts=artifacts, run_id=job_name, artifact_uri=artifacts_uri,
                    start_ms=now)
    experiment_dir = mlruns / EXPERIMENT_ID
    for folder in (mlruns / ".trash", artifacts, *(run.run_dir / d for d in ("metrics", "params", "tags"))):
        folder.mkdir(parents=True, exist_ok=True)
    (experiment_dir / "meta.yaml").write_text(
        f"artifact_location: {mlruns_uri}/{EXPERIMENT_ID}\ncreation_time: {now}\n"
        f"experiment_id: '{EXPERIMENT_ID}'\nlast_update_time: {now}\nlifecycle_stage: active\n"
        f"name: {_yaml_str(experiment_name or 'Default')}\n")
    (run.run_dir / "meta.yaml").write_text(_run_meta(run, status="RUNNING", end=None))
    (run.run_dir / "tags" / "mlflow.runName").write_text(job_name)
    return run


def _run_meta(run: MlflowRun, *, status: str, end: int | None) -> str:
    return (f"artifact_uri: {run.artifact_uri}\nend_time: {'null' if end is None else end}\n"
            f"entry_point_name: ''\nexperiment_id: '{EXPERIMENT_ID}'\nlifecycle_stage: active\n"
            f"run_id: {run.run_id}\nrun_name: {_yaml_str(run.run_id)}\nrun_uuid: {run.run_id}\n"
            f"source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {run.start_ms}\n"
            f"status: {RUN_STATUS[status]}\ntags: []\nuser_id: runner\n")


def finish_run(run: MlflowRun, *, status: str, links: Links | None = None) -> None:
    """Mark the run FINISHED / FAILED / KILLED, keeping what the job's MLflow wrote in its meta.yaml
    (read and replaced, never through a link). A link the job left there is replaced by the meta the run
    was prepared with; a run folder that is a link is left alone (both noted in ``links``)."""
    links = Links() if links is None else links
    with open_folder(run.mlruns.parent, run.mlruns.name, EXPERIMENT_ID, run.run_id, links=links) as folder:
        if folder is None:
            return
        now = int(time.time() * 1000)
        text = read_text(folder, "meta.yaml", links, done="replaced")
        if text is None:
            if lstat(folder, "meta.yaml") is None:  # the job removed it: nothing to mark
                return
            text = _run_meta(run, status=status, end=now)
        text = re.sub(r"^status: .*$", f"status: {RUN_STATUS[status]}", text, flags=re.M)
        text = re.sub(r"^end_time: .*$", f"end_time: {now}", text, flags=re.M)
        replace_text(folder, "meta.yaml", text)


def _meta_field(text: str, name: str) -> str | None:
    match = re.search(rf"^{name}: *(.*)$", text, flags=re.M)
    return match.group(1).strip().strip("'\"") if match else None


def collect_logged_models(run: MlflowRun, links: Links | None = None) -> list[str]:
    """Copy MLflow 3 logged models of this run into ``artifacts/<name>/``; return the names copied.
    Nothing is read or written through a link (each is noted in ``links`` and skipped); a model whose
    folder is already in the artifacts is not copied again."""
    links = Links() if links is None else links
    copied: list[str] = []
    with open_folder(run.mlruns.parent, run.mlruns.name, EXPERIMENT_ID, "models", links=links) as models, \
            open_folder(run.artifacts.parent, run.artifacts.name, links=links, create=True) as artifacts:
        if models is None or artifacts is None:
            return copied
        with os.scandir(models.fd) as listing:
            model_ids = sorted(e.name for e in listing if e.is_dir(follow_symlinks=False) or e.is_symlink())
        for model_id in model_ids:
            with open_child(models, model_id, links) as model:
                name = None if model is None else _logged_model_name(model, run.run_id, links)
                if model is None or name is None or _already_there(artifacts, name):
                    continue
                with open_child(model, "artifacts", links) as source:
                    if source is None:
                        continue
                    with open_child(artifacts, name, links, create=True) as target:
                        if target is None:
                            continue
                        copy_folder(source, target, links)
            copied.append(name)
            log.debug("copied MLflow logged model %s into the job's artifacts", name)
    return copied


def _logged_model_name(model: Folder, run_id: str, links: Links) -> str | None:
    """The name of the model in ``model`` when this run logged it and the name is one folder name."""
    text = read_text(model, "meta.yaml", links)
    if text is None:
        return None
    name = _meta_field(text, "name")
    if _meta_field(text, "source_run_id") != run_id or not name or name in (".", ".."):
        return None
    return None if "/" in name or "\0" in name or len(name.encode()) > 255 else name


def _already_there(artifacts: Folder, name: str) -> bool:
    """A folder or file ``name`` in the artifacts (a link there is replaced, so it does not count)."""
    info = lstat(artifacts, name)
    return info is not None and not stat.S_ISLNK(info.st_mode)
