"""azure.ai.ml.exceptions' names for runner's errors (``runner.errors``), so a ported script's
``from azure.ai.ml.exceptions import JobException`` becomes ``from runner.exceptions import ...``.

    MlException          = RunnerError   (every error runner raises)
    ValidationException  = SpecError     (a bad spec or argument)
    JobException         = JobError      (job lifecycle; ``stream`` raises its JobFailedError)
"""

from __future__ import annotations

from runner.errors import JobError, JobFailedError, RunnerError, SpecError

MlException = RunnerError
ValidationException = SpecError
JobException = JobError

__all__ = ["JobException", "JobFailedError", "MlException", "ValidationException"]
