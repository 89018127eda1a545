"""What a finished pipeline's exit status says, beyond its status: a pipeline that failed only because
steps could not start (their image missing, the Docker engine not reachable: each step record's
``extra.not_started``) exits as such a job does (``runner job``'s exit 4, docs/guides/ci.md)."""

from __future__ import annotations

from runner.pipelines.record import STEPS_KEY, is_pipeline
from runner.workspace.db import JobRecord, Workspace


def steps_not_started(ws: Workspace, record: JobRecord) -> bool:
    """True when ``record`` is a pipeline whose failed steps all failed to start (at least one)."""
    states = record.extra.get(STEPS_KEY)
    if not is_pipeline(record) or not isinstance(states, dict):
        return False
    failed = [s for s in states.values() if isinstance(s, dict) and s.get("status") == "Failed"]
    if not failed:
        return False
    for state in failed:
        name = str(state.get("job"))
        if not ws.job_exists(name) or not ws.get_job(name).extra.get("not_started"):
            return False
    return True
