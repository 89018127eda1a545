"""azure.ai.ml's ``creation_context`` (its ``SystemData``): when something was created and last changed.

Jobs (``runner.jobs.job.Job``), registered model and data asset versions (``runner.spec.asset``) and
environments (``runner.workspace.environments``) have one. Who created or changed it is not recorded
locally, so ``created_by`` and ``last_modified_by`` (and their ``_type``) are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# read-only keys that `show -o yaml` prints: accepted (and ignored) when such a file is created again (an
# asset's, ``runner.spec.asset``; a component's, ``runner.spec.component``, which needs no asset model)
READ_ONLY_YAML_FIELDS = ("id", "creation_context", "created_at", "archived", "job_name", "datastore_uri",
                         "latest_version")


@dataclass(frozen=True)
class CreationContext:
    """azure.ai.ml's ``SystemData``: ``created_at``, ``last_modified_at`` (who: None, not recorded)."""

    created_at: datetime
    last_modified_at: datetime
    created_by: str | None = None
    created_by_type: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None
