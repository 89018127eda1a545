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
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from runner.plan.types import CONTAINER_ARTIFACTS, CONTAINER_MLRUNS
from runner.workspace.jobdir import JobDir

log = logging.getLogger(__name__)

EXPERIMENT_ID = "0"
RUN_STATUS = {"RUNNING": 1, "FINISHED": 3, "FAILED": 4, "KILLED": 5}


@dataclass(frozen=True)
class MlflowRun:
    """The file-store run prepared for one job."""

    mlruns: Path  # host folder of the file store
    artifacts: Path  # host folder of the run's artifacts (the job's artifacts staging)
    run_id: str

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
    run = MlflowRun(mlruns=mlruns, artifacts=artifacts, run_id=job_name)
    now = int(time.time() * 1000)
    mlruns_uri = f"file://{CONTAINER_MLRUNS if in_container else mlruns}"
    artifacts_uri = f"file://{CONTAINER_ARTIFACTS if in_container else artifacts}"
    experiment_dir = mlruns / EXPERIMENT_ID
    for folder in (mlruns / ".trash", artifacts, *(run.run_dir / d for d in ("metrics", "params", "tags"))):
        folder.mkdir(parents=True, exist_ok=True)
    (experiment_dir / "meta.yaml").write_text(
        f"artifact_location: {mlruns_uri}/{EXPERIMENT_ID}\ncreation_time: {now}\n"
        f"experiment_id: '{EXPERIMENT_ID}'\nlast_update_time: {now}\nlifecycle_stage: active\n"
        f"name: {_yaml_str(experiment_name or 'Default')}\n")
    _write_run_meta(run, artifacts_uri, status="RUNNING", start=now, end=None)
    (run.run_dir / "tags" / "mlflow.runName").write_text(job_name)
    return run


def _write_run_meta(run: MlflowRun, artifact_uri: str, *, status: str, start: int, end: int | None) -> None:
    (run.run_dir / "meta.yaml").write_text(
        f"artifact_uri: {artifact_uri}\nend_time: {'null' if end is None else end}\n"
        f"entry_point_name: ''\nexperiment_id: '{EXPERIMENT_ID}'\nlifecycle_stage: active\n"
        f"run_id: {run.run_id}\nrun_name: {_yaml_str(run.run_id)}\nrun_uuid: {run.run_id}\n"
        f"source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {start}\n"
        f"status: {RUN_STATUS[status]}\ntags: []\nuser_id: runner\n")


def finish_run(run: MlflowRun, *, status: str) -> None:
    """Mark the run FINISHED / FAILED / KILLED (keeps the artifact URI and start time it was given)."""
    meta = run.run_dir / "meta.yaml"
    if not meta.exists():
        return
    text = meta.read_text()
    now = int(time.time() * 1000)
    text = re.sub(r"^status: .*$", f"status: {RUN_STATUS[status]}", text, flags=re.M)
    text = re.sub(r"^end_time: .*$", f"end_time: {now}", text, flags=re.M)
    meta.write_text(text)


def _meta_field(text: str, name: str) -> str | None:
    match = re.search(rf"^{name}: *(.*)$", text, flags=re.M)
    return match.group(1).strip().strip("'\"") if match else None


def collect_logged_models(run: MlflowRun) -> list[str]:
    """Copy MLflow 3 logged models of this run into ``artifacts/<name>/``; return the names copied."""
    copied: list[str] = []
    for meta in sorted((run.mlruns / EXPERIMENT_ID / "models").glob("*/meta.yaml")):
        text = meta.read_text()
        name = _meta_field(text, "name")
        if _meta_field(text, "source_run_id") != run.run_id or not name or "/" in name or name == "..":
            continue
        source = meta.parent / "artifacts"
        target = run.artifacts / name
        if not source.is_dir() or target.exists():
            continue
        shutil.copytree(source, target)
        copied.append(name)
        log.debug("copied MLflow logged model %s into the job's artifacts", name)
    return copied
