"""``job download``: a job's outputs copied locally in Azure's layout (``artifacts/``,
``named-outputs/<out>/``), streamed file by file. A pipeline job's artifacts are its log; its named
outputs are its steps' (as azure.ai.ml's ``jobs.download`` does for a pipeline job)."""

from __future__ import annotations

import shutil
from pathlib import Path

from runner.errors import JobError, ResolveError, RunnerError
from runner.modes import PathKind
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.resolve import Resolver
from runner.workspace.transfers import fetch
from runner.workspace.upload_state import Incomplete, incomplete_outputs


def download_outputs(ws: Workspace, record: JobRecord, names: list[str], download_path: Path, *,
                     every: bool = False, quiet: bool = False) -> list[Path]:
    """Copy each output in ``names``; with ``every`` (``--all``) the outputs that exist are copied
    and the ones never written, or not (all) uploaded (held back, or their upload failed or was cut
    short: ``runner.workspace.upload_state``), are named in one error afterwards, with where their
    staged data is. Part of an output is never copied as if it were the whole of it."""

    resolver = Resolver(ws)
    incomplete = incomplete_outputs(ws, record, names)
    if incomplete and not every:
        raise _incomplete_error(record, incomplete)
    written: list[Path] = []
    missing: list[str] = []
    for name in names:
        if name in incomplete:
            continue
        if name == ARTIFACTS and record.spec.get("type") == "pipeline":
            log = _pipeline_log(ws, record, download_path, every=every)
            written.extend([log] if log else [])
            missing.extend([] if log else [name])
            continue
        try:
            resolved = resolver.resolve(f"azureml://jobs/{record.name}/outputs/{name}",
                                        field=None if every or name == ARTIFACTS else "--output-name")
        except ResolveError as exc:
            if name not in record.outputs:  # not an output of this job at all
                raise
            if not every:  # declared but not written (yet): say why from the job's status
                hint = _state_hint(record) or exc.hint
                raise ResolveError(exc.message, field=exc.field, hint=hint) from exc
            missing.append(name)
            continue
        target = download_path.expanduser().resolve() / (
            "artifacts" if name == ARTIFACTS else f"named-outputs/{name}")
        if resolved.kind is PathKind.FILE:
            target = target / resolved.path.rstrip("/").rsplit("/", 1)[-1]
        fetch(resolved.fs, resolved.path, target, is_file=resolved.kind is PathKind.FILE, quiet=quiet)
        written.append(target)
    done = f"; downloaded: {', '.join(str(p) for p in written)}" if written else ""
    if incomplete:
        not_written = f"; output(s) {', '.join(missing)} were not written" if missing else ""
        raise _incomplete_error(record, incomplete, not_written + done)
    if missing:
        raise JobError(f"job '{record.name}' ({record.status.value}): output(s) {', '.join(missing)} "
                       f"were not written{done}", hint=_state_hint(record))
    return written


def _incomplete_error(record: JobRecord, found: dict[str, Incomplete], more: str = "") -> JobError:
    """Outputs not (all) uploaded: what became of each, where its data is, what to do (``more``: what else
    happened). Outputs the record held back, of which nothing was uploaded, are said as they always were."""
    ended = "failed" if record.status is JobStatus.FAILED else f"ended {record.status.value}"
    first = next(iter(found.values()))
    if all(item.held_back and item.node is None for item in found.values()):
        kept = ", ".join(f"{n} in {item.kept_at}" for n, item in sorted(found.items()))
        why = record.extra.get("held_back_why") or "ran with --no-upload-on-failure"
        return JobError(f"job '{record.name}' {ended} and {why}: its outputs were never uploaded and stayed "
                        f"staged ({kept}){more}",
                        hint=f"`runner job finalize --name {record.name}` uploads them from there; or copy "
                             f"them from there, e.g. cp -r {first.kept_at} DEST")
    said = "; and ".join(item.sentence() for _, item in sorted(found.items()))
    return JobError(f"job '{record.name}' {ended}: {said}{more}", hint=first.hint())


def _pipeline_log(ws: Workspace, record: JobRecord, download_path: Path, *, every: bool) -> Path | None:
    """A pipeline's artifacts: its log (its own lines and every step's), as ``artifacts/user_logs/
    std_log.txt`` like a command job's; it runs no command of its own, so it has nothing else (its steps'
    artifacts are their jobs': ``job download --name <pipeline>-<step>``). None when there is no log yet
    and ``every``."""
    source = ws.job_dir(record.name).std_log
    if not source.is_file():
        if every:
            return None
        raise ResolveError(f"pipeline job '{record.name}' has no log yet ({source})",
                           hint=_state_hint(record) or "download its outputs with --all or --output-name")
    target = download_path.expanduser().resolve() / ARTIFACTS
    (target / "user_logs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target / "user_logs" / source.name)
    return target


def _state_hint(record: JobRecord) -> str | None:
    """Why an output of ``record`` may not exist yet, from the job's status."""
    if not record.status.is_terminal:
        return (f"the job is {record.status.value}: outputs are complete once it ends; follow it with "
                f"`runner job stream --name {record.name}`")
    if record.status is not JobStatus.COMPLETED:
        return (f"the job ended {record.status.value} before writing it; "
                f"`runner job show --name {record.name}` says why")
    return None


def in_python_words(err: RunnerError, record: JobRecord, output: str, *, every: bool) -> None:
    """``err`` (raised by ``download_outputs``) told in the Python API's words too, where the CLI's names
    flags or commands: ``output_name`` for ``--output-name``, ``ml_client.jobs`` calls for commands."""
    if err.field == "--output-name":
        err.python_field = "output_name"
    err.python_hint = err.python_hint or _python_hint(err, record, output, every=every)


def _python_hint(err: RunnerError, record: JobRecord, output: str, *, every: bool) -> str | None:
    name, status = record.name, record.status.value
    if not every and output != ARTIFACTS and output not in record.outputs:  # no such output
        return f"give output_name one of {sorted({*record.outputs, ARTIFACTS})}, or all=True for every output"
    if err.hint == "download its outputs with --all or --output-name":  # a pipeline without a log yet
        return "download its outputs with all=True or output_name=..."
    if err.hint is None or err.hint != _state_hint(record):
        return None
    if not record.status.is_terminal:
        return (f"the job is {status}: outputs are complete once it ends; follow it with "
                f"`ml_client.jobs.stream('{name}')`")
    return f"the job ended {status} before writing it; `ml_client.jobs.get('{name}').error` says why"
