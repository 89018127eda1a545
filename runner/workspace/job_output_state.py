"""A user's registration of a job's output (``azureml://jobs/<job>/outputs/<o>``, ``runs:/<job>/...``)
waits for the job to end: while it is Queued, Preparing, Running or Finalizing its output is not written
(or not whole), so the registration is refused saying so and how to wait, rather than that a folder
does not exist. A Failed or Canceled job's output is registered, with a warning that it may be partial
(Azure registers what is there too).

The registration a job makes of its own outputs as it ends (``runner.jobs.register``, on the registry
directly: a job on Ray still reads Running then) is not a user's and does not come here; the Python
client's and the CLI's do (``runner.client``).
"""

from __future__ import annotations

import logging

from runner.errors import RegistryError, RunnerError
from runner.uris import JobOutputPath, parse_path
from runner.workspace.db import Workspace
from runner.workspace.job_records import JobStatus

logger = logging.getLogger(__name__)

PARTIAL = (JobStatus.FAILED, JobStatus.CANCELED)


def check_job_output(workspace: Workspace, path: str | None, *, noun: str) -> None:
    """Refuse (``RegistryError`` on field ``path``) registering a ``noun`` from the output of a job that
    has not ended; warn when it ended Failed or Canceled. Any other path, a malformed one or an unknown
    job is left to the registration, which says what is wrong with it."""
    try:
        ref = parse_path(path, field="path") if path else None
    except RunnerError:
        return
    if not isinstance(ref, JobOutputPath) or not workspace.job_exists(ref.job):
        return
    status = workspace.get_job(ref.job).status
    if not status.is_terminal:
        job = ref.job
        raise RegistryError(
            f"cannot register {noun} '{ref}': job '{job}' is {status.value}, and its output "
            f"'{ref.output}' is written when it ends", field="path",
            hint=f"wait for it (`runner job stream --name {job}`, or `ml_client.jobs.stream('{job}')` in "
                 "Python) and register it then")
    if status in PARTIAL:
        logger.warning("job '%s' ended %s: its output '%s' may be partial (what it wrote before it ended); "
                       "registering %s '%s' as asked", ref.job, status.value, ref.output, noun, ref)
