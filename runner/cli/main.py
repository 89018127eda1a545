"""The root of the ``runner`` command line: the click group, ``main``/``run``, and what the fork server warms.

Every ``RunnerError`` becomes one clear message on stderr and a non-zero exit; ``--debug`` adds the
traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

from runner import __version__
from runner.cli import _az_args, _common, _pydantic_plugins, _usage, _workspace
from runner.errors import RunnerError, SpecError
from runner.terminal_text import safe_field_text

# What a command imports, imported once by the fork server (``runner.forkserver``) for all its commands:
# the CLI, the spec and plan, the job lifecycle, docker-py and the strategies every job uses (its
# ``artifacts`` output is an upload). Model and datastore commands add a little.
WARM_MODULES = (
    "runner.cli.job", "runner.cli.model", "runner.spec.job", "runner.spec.load", "runner.plan.build",
    "runner.plan.render", "runner.workspace.resolve", "runner.workspace.db", "runner.jobs.operations",
    "runner.jobs.run", "runner.jobs.submit", "runner.jobs.materialize", "runner.jobs.supervise",
    "runner.jobs.register", "runner.backends.docker", "runner.backends.process",
    "runner.workspace.registry", "runner.client", "mounts.upload", "mounts.download", "docker",
    "runner.workspace.protect", "mounts.read_only_view", "runner.pipelines.operations",
    "runner.pipelines.submit",
    "rich.console", "rich.table",
    # Azure datastores and the FUSE modes: ~0.5 s of imports (adlfs, the Azure SDK, mfusepy) that a
    # job reading from Azure would otherwise pay each time; ~25 MB more in the server
    "adlfs", "mounts.stores.azure", "mounts.ro_mount", "mounts.rw_mount",
)

# the groups, each the ``app`` of ``runner.cli.<name>``, imported when first named
GROUPS = ("job", "model", "data", "datastore", "environment", "cache", "compute", "component")
# what the root lists, in this order: the module below ``runner.cli`` and its click command of each
_LISTED = {**{name: (name, "app") for name in GROUPS[:6]}, "ui": ("ui", "ui"),
           **{name: (name, "app") for name in GROUPS[6:]}}


class LazyGroups(click.Group):
    """The root: a command line naming one group imports that group's module only (``runner job
    validate`` never imports ``runner.cli.model``, nor the ``ui`` command's module); listing them (a
    mistyped name's "did you mean") names each without importing it, and ``--help`` reads each one's help
    from its module. A command is made runner's (``_finished``: the workspace guard, az's arguments,
    runner's usage errors, the garbage collector's resumption) as it is first imported."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*_LISTED, *(name for name in self.commands if name not in _LISTED)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _LISTED:
            module, attribute = _LISTED[cmd_name]
            # __import__, not importlib.import_module: python -X importtime reports only the former
            command: click.Command = getattr(__import__(f"runner.cli.{module}", fromlist=[attribute]),
                                             attribute)
            self.add_command(_finished(command, cmd_name), cmd_name)
        return self.commands.get(cmd_name)


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"runner {__version__}")
        ctx.exit()


@click.group("runner", cls=LazyGroups, no_args_is_help=True,
             help="Run Azure-ML-style command jobs locally: models and data materialized by mode.",
             context_settings={"show_default": True, **_common.HELP_SETTINGS})
@click.option("--workspace", "-w", default=None, metavar="PATH", envvar="RUNNER_WORKSPACE", show_envvar=True,
              help="Workspace directory (default: ~/.local/share/runner). A folder that does not exist is "
                   "created by the create commands (and job validate), refused by the others.")
@click.option("--debug", is_flag=True, default=False, help="Show tracebacks and debug logs.")
@click.option("--quiet", "-q", is_flag=True, default=False, help="No progress bars.")
@click.option("--version", is_flag=True, default=False, expose_value=False, is_eager=True, callback=_version,
              help="Print the version and exit.")
@click.pass_context
def app(ctx: click.Context, workspace: str | None, debug: bool, quiet: bool) -> None:
    if workspace is not None and not workspace.strip():
        raise SpecError("--workspace (-w) is empty",
                        hint="give a workspace directory (--workspace DIR), or leave the option out for "
                             "RUNNER_WORKSPACE or the default (~/.local/share/runner)")
    _common.STATE.workspace = workspace
    _common.STATE.workspace_source = (
        "RUNNER_WORKSPACE" if getattr(ctx.get_parameter_source("workspace"), "name", "") == "ENVIRONMENT"
        else "--workspace")
    _common.STATE.debug = debug
    _common.STATE.quiet = quiet
    handler = logging.StreamHandler()
    handler.setFormatter(_CliFormatter())
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])


class _CliFormatter(logging.Formatter):
    """A logged warning as every warning the CLI prints, ``warning: ...``, whichever module logged it; the
    other levels (an error a module logs beside the command's own ``error:``, ``--debug``'s lines) name
    their level and logger."""

    _named = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:  # terminal-safe: it may name a file a job made
        if record.levelno != logging.WARNING:
            return safe_field_text(self._named.format(record))
        return safe_field_text(f"warning: {super().format(record)}")


def main(*, gc_paused: bool = False) -> None:
    """Run the command in ``sys.argv`` and exit with its status (skipping the interpreter's teardown
    of every loaded module and object: ~0.13 s after a job on this machine). ``gc_paused``: the
    caller turned the garbage collector off for the start-up (``runner.launch``); it is turned on
    again as the command starts (``_resuming_gc``)."""
    _STARTUP.gc_paused = gc_paused
    os._exit(run())


class _Startup:
    gc_paused = False


_STARTUP = _Startup()


def _resuming_gc(root: Any) -> None:
    """Make every command below the click command ``root`` turn the garbage collector on first, when
    ``main`` was told it is off for the start-up. The start-up's objects (modules, classes, the click
    tree: ~40k, and next to no garbage: collecting them as they come costs a cold ``runner job
    validate`` ~2% of its instructions) are frozen first, as the fork server freezes them before it
    forks a command (``runner.forkserver``): no collection looks at them again."""
    pending = [root]
    while pending:
        command = pending.pop()
        pending.extend(getattr(command, "commands", {}).values())
        if command.callback is not None and not getattr(command, "commands", None):
            command.callback = _gc_resumed(command.callback)


def _gc_resumed(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def resumed(*args: Any, **kwargs: Any) -> Any:
        if _STARTUP.gc_paused:
            _STARTUP.gc_paused = False
            gc.freeze()
            gc.enable()
        return callback(*args, **kwargs)
    return resumed


def run() -> int:
    """Run the command in ``sys.argv``; its exit status, once atexit handlers (logging, thread pools,
    weakref finalizers, coverage) have run and the standard streams are flushed. All that is left is
    ``os._exit``: files are closed by their ``with`` blocks before this returns."""
    code: object
    if named_group(sys.argv[1:]) is not None:  # a group's command: its models' validators come next
        _pydantic_plugins.note_none_installed()  # pydantic's search for plugins, when there can be none
    try:
        code = _run_app()
    except SystemExit as exit_:
        code = exit_.code
    return _finish(code)


_WARM_JOB = """\
command: python train.py --data ${{inputs.data}} --out ${{outputs.model}}
inputs:
  data: {type: uri_folder, path: ./data, mode: ro_mount}
  lr: 0.1
outputs:
  model: {type: mlflow_model, mode: upload}
environment:
  image: python:3.11
"""


# the root's own options (``app``) that may come before a group's name: with a value, and flags
_ROOT_OPTIONS_WITH_VALUE = ("--workspace", "-w")
_ROOT_FLAGS = ("--debug", "--quiet", "-q", "--version")


def click_command() -> click.Group:
    """The root click group ``app``, made runner's: every command first checks the workspace it was given
    (``runner.cli._workspace``), takes az ml's common arguments and ignores them (``runner.cli._az_args``);
    a usage error is runner's one message (``runner.cli._usage``). Each command below the root is made so
    as its module is first imported (``LazyGroups``)."""
    return app


def named_group(args: list[str]) -> str | None:
    """The group a command line names after the root's options (``job`` in ``-w ws job validate -f
    j.yml``); None when it names none, or has before it anything but the root's own options (``--help``,
    ``--``, ``-wDIR``)."""
    index = _first_word(args)
    if index is None:
        return None
    word = args[index]
    return word if word in GROUPS else None


def _first_word(args: list[str]) -> int | None:
    """Where the first word after the root's own options is; None when there is none, or an option the
    scan does not know comes first."""
    index = 0
    while index < len(args):
        word = args[index]
        if word in _ROOT_OPTIONS_WITH_VALUE:
            index += 2  # click takes the next word as the value, whatever it looks like
        elif word in _ROOT_FLAGS or word.startswith("--workspace="):
            index += 1
        elif word.startswith("-"):
            return None
        else:
            return index
    return None


def _finished(command: click.Command, name: str) -> click.Command:
    """The root's command ``name`` (a group, or ``ui``) made runner's (see ``click_command``)."""
    _workspace.guard_tree(command, name)
    _help_settings(command)
    _resuming_gc(command)
    _az_args.install(command, name)
    _usage.install(command, root=False)
    return command


def _help_settings(root: click.Command) -> None:
    """Give every command below ``root`` the root's help settings (``-h``, the width) in each context,
    one made with no parent too (its help option is made, and kept, by its first context: ``warm``)."""
    pending = [root]
    while pending:
        command = pending.pop()
        pending.extend(getattr(command, "commands", {}).values())
        command.context_settings = {**_common.HELP_SETTINGS, **command.context_settings}


_usage.install(app)  # the root converts the usage errors: its own, and every command's below it


def warm() -> None:
    """Do now what a command's first run would: import every group, make each command's ``--help``
    option, the YAML and spec machinery's first-use setup (~2 ms), SQLite's and the Docker client
    (~5 ms). The fork server calls it once for all its children."""
    import sqlite3  # (the warm-up's imports are the fork server's, not the CLI's start-up)

    from runner.backends.docker_client import docker_client  # (for the fork server, not at CLI start-up)
    from runner.spec.load import spec_from_doc
    from runner.spec.yamlio import load_yaml_text
    from runner.workspace.datastore_kinds import datastore_adapter

    spec_from_doc(load_yaml_text(_WARM_JOB))
    sqlite3.connect(":memory:").close()  # the SQLite library's one-time set-up (~1 ms)
    with contextlib.suppress(Exception):  # a DOCKER_HOST it cannot use: the command will say so
        docker_client()
    root = click_command()
    with click.Context(root) as ctx:
        for name in root.list_commands(ctx):  # every group imported, for every command forked
            root.get_command(ctx, name)
    _complete_models()
    datastore_adapter()  # any datastore kind's validator (a cold command builds it at first use)
    commands: list[click.Command] = [root]
    while commands:
        command = commands.pop()
        commands.extend(getattr(command, "commands", {}).values())
        # made (and kept) by its first context: one with the command's settings (-h)
        command.get_help_option(command.context_class(command, **command.context_settings))


def _complete_models() -> None:
    """Build the validators of runner's pydantic models that wait for their first use (``defer_build``:
    a cold ``job validate`` needs neither the job records' nor the assets'), once for every command the
    fork server forks."""
    from pydantic import BaseModel

    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith(("runner.", "mounts.")) and not model.__pydantic_complete__:
            model.model_rebuild(raise_errors=False)


def _run_app() -> int:
    try:
        click_command()()
    except RunnerError as err:
        if _common.STATE.debug:
            traceback.print_exc()
        print(safe_field_text(f"error: {err.render()}"), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: still one message, never silence or a traceback
        if _common.STATE.debug:
            traceback.print_exc()
        print(f"error: internal error: {exc.__class__.__name__}: {exc}\n  hint: this is a bug in runner; "
              "rerun with --debug for the traceback and report it", file=sys.stderr)
        return 1
    return 0


def _finish(code: object) -> int:
    """The status ``sys.exit(code)`` would exit with, after what it would do first (bar the teardown)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`runner job list | head`): as CPython does
            status = status or 120
    return status
