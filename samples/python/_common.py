"""What every Python sample shares: connecting to the workspace, and running a job to its end.

The samples follow the seed document's snippets with ``azure.ai.ml`` replaced by ``runner``:
``MLClient`` takes Azure's credential/subscription/resource group/workspace arguments (accepted, not
used) and works on a local workspace directory (``--workspace``, else ``RUNNER_WORKSPACE``, else
``~/.local/share/runner``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from runner import MLClient

SAMPLES = Path(__file__).resolve().parents[1]
JOBS = SAMPLES / "jobs"
CODE = JOBS / "src"  # the scripts the sample jobs run
MODELS = SAMPLES / "models"
SKLEARN_ENV = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"


def parse_args(description: str, extra: list[tuple[str, dict[str, Any]]] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workspace", help="workspace directory (default: RUNNER_WORKSPACE)")
    for flag, options in extra or []:
        parser.add_argument(flag, **options)
    return parser.parse_args()


def connect(workspace: str | None) -> MLClient:
    """The seed's ``MLClient(DefaultAzureCredential(), subscription_id, resource_group, workspace)``."""
    subscription_id = "<SUBSCRIPTION_ID>"
    resource_group = "<RESOURCE_GROUP>"
    workspace_name = "<AML_WORKSPACE_NAME>"
    ml_client = MLClient(None, subscription_id, resource_group, workspace_name, workspace_dir=workspace)
    # The seed's jobs use Azure's curated sklearn environment: map it to the local image once.
    ml_client.environments.create_or_update(name="sklearn-1.5", image="runner/python:3.11")
    return ml_client


def run_to_end(ml_client: MLClient, job: Any) -> Any:
    """Submit ``job`` (it runs in the background), follow its log, and fail unless it Completed."""
    returned_job = ml_client.jobs.create_or_update(job)
    print(f"submitted job {returned_job.name}", flush=True)
    finished = ml_client.jobs.stream(returned_job.name, echo=_echo)
    print(f"job {finished.name}: {finished.status.value}", flush=True)
    if finished.status.value != "Completed":
        raise SystemExit(f"job {finished.name} ended {finished.status.value}: {finished.error}")
    return finished


def _echo(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
