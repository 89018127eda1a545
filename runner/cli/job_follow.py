"""What ``runner job create --stream`` and ``runner job stream`` print around a followed job's log and
exit with (``runner.cli.job``): where the log goes, the plan's warnings before it, the Execution Summary
after it (as ``az ml job create --stream`` prints it), the exit status for the job's status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from runner.cli import pipeline_view
from runner.terminal_text import safe_field_text

if TYPE_CHECKING:
    from runner.jobs.log_echo import TerminalEcho
    from runner.workspace.db import JobRecord

EXIT_FOR_STATUS = {"Completed": 0, "Failed": 1, "Canceled": 3}
EXIT_NOT_STARTED = 4  # the job could not be started: the Docker engine or its image was not there


def log_echo(*, err: bool = False) -> TerminalEcho:
    """Where a followed job's log goes: stdout (``err``: stderr, when stdout is reserved for ``-o json``),
    terminal-safe whether or not it is a terminal (no escape sequence but SGR colours, which CI log
    viewers show too: ``runner.terminal_text``)."""
    from runner.jobs.log_echo import TerminalEcho  # start-up cost: loaded with the operations already

    return TerminalEcho(sys.stderr if err else sys.stdout)


def summary(record: JobRecord, *, err: bool = False) -> None:
    """The Execution Summary after a followed job's log, where its log went: stdout, as ``az ml job
    create --stream`` prints it (``err``: stderr, when stdout holds the ``-o json`` record)."""
    lines = ["", "Execution Summary", "=================", f"RunId: {record.name}",
             f"Status: {record.status.value}"]
    if record.exit_code is not None:
        lines.append(f"Exit code: {record.exit_code}")
    if record.error:
        lines.append(f"Error: {record.error}")
    if record.registered_models:
        lines.append("Registered models: " + ", ".join(born(m, record) for m in record.registered_models))
    if record.registered_data:
        lines.append("Registered data assets: " + ", ".join(born(d, record) for d in record.registered_data))
    lines += [f"Note: {ref}: {why}" for ref, why in record.extra.get("registered_archived", {}).items()]
    if record.extra.get("late_cancel"):
        lines.append(f"Note: {record.extra['late_cancel']}")
    lines += pipeline_view.summary_lines(record)
    click.echo(safe_field_text("\n".join(lines)), err=err)  # its error may quote what the job chose


def born(ref: str, record: JobRecord) -> str:
    """A version the job registered, said ``(archived)`` when it was born archived (its asset was)."""
    return f"{ref} (archived)" if ref in record.extra.get("registered_archived", {}) else ref


def warn(record: JobRecord) -> None:
    """The plan's warnings on stderr, as ``job validate`` lists them, once the job is queued and before
    its log (a pipeline's are in its log and its record)."""
    for warning in record.extra.get("warnings", []):
        click.echo(safe_field_text(f"warning: {warning}"), err=True)


def exit_for(record: JobRecord) -> None:
    code = EXIT_FOR_STATUS.get(record.status.value, 1)
    # (runner.jobs.run.NOT_STARTED: a pipeline's too, when every failed step could not start)
    if code == 1 and record.extra.get("not_started"):
        code = EXIT_NOT_STARTED
    if code:
        raise click.exceptions.Exit(code)
