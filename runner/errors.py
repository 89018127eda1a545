"""One error hierarchy for the whole tool.

Every error a user can cause or meet is a ``RunnerError``; the CLI prints ``err.render()`` as one clear
message (what, where, how to fix) and exits non-zero; ``--debug`` adds the traceback.

    RunnerError
    ├── SpecError            bad job/model/datastore YAML or builder arguments (file:line:col, field)
    │   └── ModeError        a type x direction x mode combination the matrix refuses
    ├── ResolveError         an unknown datastore, job, model, data asset, component or environment; a
    │                        missing path; a path escaping its root (file:line:col and field when a spec
    │                        named it)
    ├── RegistryError        a registry rule refused the request (version exists, immutable field, archived)
    ├── StorageError         a filesystem / object store operation failed (translated from fsspec/azure)
    │   └── TransferError    some files were not downloaded/uploaded; names them and where staged data is
    ├── MountError           a FUSE mount could not be made, did not become ready, or failed to unmount
    ├── BackendError         the execution backend is unavailable or refused the job (no Docker, no image)
    │   └── ContainerError   the container/process failed to start or was lost
    └── JobError             job lifecycle errors (unknown job, not cancellable, timed out)
        └── JobFailedError   a job that was followed to its end (``stream``) ended Failed or Canceled

Errors raised from a lower layer are always chained (``raise ... from exc``).

An error the Python API can raise may carry a ``python_hint``: the same advice in the Python API's words
(``type=AssetTypes.URI_FOLDER``, ``ml_client.models.get(name, label="latest")``) where ``hint`` names the
CLI's flags and commands; and a ``python_message`` / ``python_field`` where the message or the field names
a flag (``--set tags=...``, ``--output-name``: ``set_values={'tags': ...}``, ``output_name``). The CLI
prints ``err.render()`` (the CLI's words); ``str(err)``, what a Python caller's traceback shows, is
``err.render(python=True)`` (the Python words where there are some).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

# C0 controls but newline and tab, DEL, C1 controls, and the bidirectional overrides and isolates
# (which reorder what a terminal shows): printed as escapes
_ESCAPED = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
            for c in [*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
            if c not in (0x09, 0x0A)}


class RunnerError(Exception):
    """Base class. ``message`` says what is wrong; ``hint`` says how to fix it; ``field`` (the dotted
    path of the offending field, ``inputs.my_model.path``) and ``where`` (file:line:col) say where, when
    the error comes from something the user wrote. ``python_hint`` is ``hint`` for a Python caller, when
    ``hint`` names CLI flags or commands (set where ``hint`` is, or by the SDK call it passed through);
    ``python_message`` and ``python_field`` are ``message`` and ``field`` for a Python caller, when those
    name a flag."""

    exit_code: int = 1
    python_hint: str | None = None
    python_message: str | None = None
    python_field: str | None = None

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None,
                 where: SourceLocation | None = None, python_hint: str | None = None,
                 python_message: str | None = None, python_field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field
        self.where = where
        self.python_hint = python_hint
        self.python_message = python_message
        self.python_field = python_field

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied (``located``) and pickled (a worker's error sent back) from its state, not by calling
        ``__init__`` again with its message: a subclass's ``__init__`` takes other arguments
        (``JobFailedError``'s ``job_name``, ``ArchiveNotRead``'s file and reason)."""
        return _rebuilt, (type(self), self.args), self.__dict__

    def reworded(self, message: str, *, hint: str | None = None, field: str | None = None,
                 where: SourceLocation | None = None, python_hint: str | None = None,
                 python_message: str | None = None, python_field: str | None = None) -> Self:
        """This error saying ``message``, with the fields given (as ``RunnerError``'s constructor takes
        them: one not given is None), and what a subclass keeps besides (``UnknownDatastore``'s name,
        ``JobFailedError``'s status): a layer that adds to the message (``step 's': ...``) keeps the kind."""
        copied = copy.copy(self)
        copied.args = (message,)
        copied.message, copied.hint, copied.field, copied.where = message, hint, field, where
        copied.python_hint, copied.python_message = python_hint, python_message
        copied.python_field = python_field
        return copied

    def location(self, *, python: bool = False) -> str | None:
        loc = str(self.where) if self.where else None
        field = self.python_field if python and self.python_field else self.field
        if field:
            return f"{loc}: {field}" if loc else field
        return loc

    def located(self, field: str, where: SourceLocation | None, *, python_field: str | None = None) -> Self:
        """A copy that says where (``field``, file:line:col; ``python_field``: the field for a Python
        caller, where ``field`` is a flag), unless this error says so already.

        For a layer that knows the spec (the planner) around one that does not (the resolver)::

            raise err.located("inputs.x.path", spec.where("inputs", "x", "path")) from err
        """
        if self.where is not None:
            return self
        copied = copy.copy(self)
        copied.field, copied.where, copied.python_field = field, where, python_field
        return copied

    def render(self, *, python: bool = False) -> str:
        """The one message the CLI prints (control characters a file or name may hold are shown
        escaped: a message never drives the terminal); ``python``: in the Python words, where any."""
        where = self.location(python=python)
        message = self.python_message if python and self.python_message else self.message
        text = f"{where}: {message}" if where else message
        hint = self.python_hint if python and self.python_hint else self.hint
        if hint:
            text += f"\n  hint: {hint}"
        return text.translate(_ESCAPED)

    def __str__(self) -> str:
        """What a Python caller sees (a traceback, ``print(err)``): the Python hint, if any."""
        return self.render(python=True)


def _rebuilt(cls: type[RunnerError], args: tuple[Any, ...]) -> RunnerError:
    """An error of ``cls`` with ``args``, not yet given its state (``RunnerError.__reduce__``)."""
    return cls.__new__(cls, *args)


@dataclass(frozen=True)
class SourceLocation:
    """Where in a user's file something was written (1-based line and column)."""

    file: Path | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file) if self.file else "<python>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class SpecError(RunnerError):
    """A job, model or datastore specification is invalid.

    ``field`` is the dotted path of the offending field (``inputs.my_model.mode``).
    """

    exit_code = 2


class ModeError(SpecError):
    """The supported-modes matrix refuses this type x direction x mode."""


class ResolveError(RunnerError):
    """A reference (datastore, job, model, environment, path) cannot be resolved."""


class RegistryError(RunnerError):
    """A model registry rule refused the request."""


class StorageError(RunnerError):
    """A storage operation failed."""


class TransferError(StorageError):
    """Some files could not be transferred. ``failed`` lists them; ``staged`` is where data was kept;
    ``total``: how many files the transfer had, when it counted them."""

    def __init__(
        self,
        message: str,
        *,
        failed: list[str] | None = None,
        staged: Path | None = None,
        hint: str | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.failed = list(failed or [])
        self.staged = staged
        self.total = total

    def render(self, *, python: bool = False) -> str:
        text = super().render(python=python)
        if self.failed:
            shown = self.failed[:20]
            text += "\n  not transferred: " + ", ".join(shown)
            if len(self.failed) > len(shown):
                text += f" (+{len(self.failed) - len(shown)} more)"
        if self.staged:
            text += f"\n  staged data kept at: {self.staged}"
        return text


class MountError(RunnerError):
    """A FUSE mount failed."""


class BackendError(RunnerError):
    """The execution backend is unavailable or refused the job."""


class ContainerError(BackendError):
    """A container or process failed to start or was lost."""

    def __init__(self, message: str, *, exit_status: int | None = None, stderr: str = "",
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_status = exit_status
        self.stderr = stderr


class JobError(RunnerError):
    """A job lifecycle operation failed."""


class JobFailedError(JobError):
    """A job followed to its end ended Failed or Canceled (``ml_client.jobs.stream``, as azure.ai.ml's
    ``JobException``). ``job_name`` and ``status`` say which and how."""

    def __init__(self, message: str, *, job_name: str, status: str, hint: str | None = None,
                 python_hint: str | None = None) -> None:
        super().__init__(message, hint=hint, python_hint=python_hint)
        self.job_name = job_name
        self.status = status
