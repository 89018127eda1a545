"""azure.ai.ml's ``creation_context`` (its ``SystemData``): when something was created and last changed.

Jobs (``runner.jobs.job.Job``), registered model and data asset versions (``runner.spec.asset``) and
environments (``runner.workspace.environments``) have one. Who created or changed it is not recorded
locally, so ``created_by`` and ``last_modified_by`` (and their ``_type``) are None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CreationContext:
    """azure.ai.ml's ``SystemData``: ``created_at``, ``last_modified_at`` (who: None, not recorded)."""

    created_at: datetime
    last_modified_at: datetime
    created_by: str | None = None
    created_by_type: str | None = None
    last_modified_by: str | None = None
    last_modified_by_type: str | None = None
