"""What the workspace remembers about one job (``JobRecord``, its ``JobStatus``), the times it holds
(``utcnow``, ``utc_text``) and Azure's default locations of its outputs. No database here: the records are
stored by ``runner.workspace.db.Workspace`` (which offers every name above too), and a module that only
reads or builds a record need not load SQLite. ``z_status_times`` reads an older record's status times as
a new one's (``ml_client.jobs``' ``Job`` and every CLI output apply it; ``z_text`` is its rule for one time).
``archived_view`` reads azure.ai.ml's ``list_view_type`` as the ``archived`` flag of the jobs a list shows.
``visible_text`` is how a record holds a name that is not valid UTF-8 (every text field of a ``JobRecord``,
however deep, is made so when it is validated).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from runner.errors import JobError
from runner.lazy_re import on_first_use

DEFAULT_DATASTORE = "workspaceblobstore"


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """A time stored as text in a record (``extra.status_times``, ...): ISO 8601 in UTC ending in ``Z``,
    as pydantic writes ``created_at`` (a naive time is UTC; older runners' ``+00:00`` text still reads)."""
    return (moment.astimezone(UTC) if moment.tzinfo else moment).isoformat().removesuffix("+00:00") + "Z"


# a UTC time as ``datetime.isoformat`` writes it: what runners before ``utc_text`` stored as status times
_plus_utc_text_re = on_first_use(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00")


def z_status_times(extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` with its ``status_times`` read in the ``utc_text`` form, as a new record has them: the
    ``+00:00`` text an older runner stored ends in ``Z`` (the rule the CLI applies when printing); any
    other value and the rest of ``extra`` as they are. A new dict when something changed."""
    times = extra.get("status_times")
    if not isinstance(times, dict) or not any(_old_text(value) for value in times.values()):
        return extra
    return {**extra, "status_times": {key: z_text(value) for key, value in times.items()}}


def z_text(value: Any) -> Any:
    """One stored time in the ``utc_text`` form: ``+00:00`` text as ``datetime.isoformat`` writes a UTC
    time ends in ``Z``; any other value (another offset, text that is no time, not text) as it is. The one
    rule for status times here and for the runner's own time fields the CLI prints."""
    return value.removesuffix("+00:00") + "Z" if _old_text(value) else value


def _old_text(value: object) -> bool:
    return isinstance(value, str) and _plus_utc_text_re().fullmatch(value) is not None


# a lone surrogate: what ``os.fsdecode`` makes of a byte that is not UTF-8 (U+DC80..U+DCFF), or another
_surrogate_re = on_first_use("[\ud800-\udfff]")


def visible_text(text: str) -> str:
    """``text`` with each lone surrogate as a visible escape: one that ``os.fsdecode`` made of a byte of a
    name that is not valid UTF-8 as that byte (``bad\\xffname``), any other as ``\\udXXX``. Such a string
    cannot be written as UTF-8 (JSON, a terminal, a web page); valid text is returned as it is."""
    if text.isascii() or not _surrogate_re().search(text):
        return text
    return _surrogate_re().sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _visible(value: Any) -> Any:
    """``value`` (text, or a dict, list or tuple holding some, however deep; keys too) with every text
    made ``visible_text``; anything else as it is."""
    if isinstance(value, str):
        return visible_text(value)
    if isinstance(value, dict):
        return {_visible(key): _visible(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_visible(item) for item in value)
    return value


class JobStatus(StrEnum):
    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class JobRecord(BaseModel):
    """What the workspace remembers about one job (the executor writes it; show/list read it)."""

    # (its validator is built when first used: `job validate` never does; the fork server at its start)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    name: str
    display_name: str | None = None
    experiment_name: str | None = None
    status: JobStatus = JobStatus.QUEUED
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_code: int | None = None
    error: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)  # name -> resolved uri
    outputs: dict[str, str] = Field(default_factory=dict)  # name -> resolved uri; always "artifacts"
    image: str | None = None
    image_id: str | None = None
    backend: str | None = None
    runner_pid: int | None = None
    container_id: str | None = None
    job_dir: str | None = None
    outputs_partial: bool = False
    registered_models: list[str] = Field(default_factory=list)
    registered_data: list[str] = Field(default_factory=list)  # data assets made from its outputs
    # ``jobs.archive``: hidden from the lists unless asked (a record an older runner wrote: not archived)
    archived: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("*", mode="before")
    @classmethod
    def _visible_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Every text the record holds can be written: a file name that is not valid UTF-8 (a job may
        write one; an error, a warning, a staged folder names it) shows its bytes escaped. A stored
        record (JSON, which holds no lone surrogate) is read as it is."""
        return value if info.mode == "json" else _visible(value)

    def model_post_init(self, __context: Any) -> None:
        if "artifacts" not in self.outputs:
            self.outputs = {**self.outputs, "artifacts": default_artifacts_uri(self.name)}


# azure.ai.ml's ``ListViewType`` values -> the ``archived`` flag of the jobs listed (None: every job)
LIST_VIEWS: dict[str, bool | None] = {"ActiveOnly": False, "ArchivedOnly": True, "All": None}


def archived_view(list_view_type: Any = None) -> bool | None:
    """``list_view_type`` (azure.ai.ml's ``ListViewType``, runner.constants' or their text, in any case;
    None: ``ActiveOnly``, Azure's default) as the jobs it lists: not archived (False), archived (True),
    every one (None). Anything else is one ``JobError`` naming the values."""
    if list_view_type is None:
        return False
    text = str(getattr(list_view_type, "value", list_view_type))
    views = {key.lower(): value for key, value in LIST_VIEWS.items()}
    key = text.lower().replace("_", "")
    if key not in views:
        from runner.spec.validation import did_you_mean  # not needed to read a record

        raise JobError(f"list_view_type '{text}' is not a list view{did_you_mean(text, LIST_VIEWS)}; "
                       f"allowed: {', '.join(LIST_VIEWS)}", field="list_view_type",
                       hint="give ListViewType.ACTIVE_ONLY (the default), ARCHIVED_ONLY or ALL "
                            "(runner.constants or azure.ai.ml.constants)")
    return views[key]


def default_output_uri(job_name: str, output_name: str, datastore: str = DEFAULT_DATASTORE) -> str:
    """Azure's default location of a named job output (on ``datastore``: a Ray compute's own)."""
    return f"azureml://datastores/{datastore}/paths/azureml/{job_name}/{output_name}/"


def default_artifacts_uri(job_name: str, datastore: str = DEFAULT_DATASTORE) -> str:
    """A job's default artifact location (``./outputs``, ``./logs``, MLflow artifacts)."""
    return f"azureml://datastores/{datastore}/paths/ExperimentRun/dcid.{job_name}/"
