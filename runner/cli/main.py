"""The root of the ``runner`` command line: the typer app, ``main``/``run``, and what the fork server warms.

Every ``RunnerError`` becomes one clear message on stderr and a non-zero exit; ``--debug`` adds the
traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import gc
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer
import typer.main

import runner.cli.job  # noqa: F401
from runner import __version__
from runner.cli import _az_args, _common, _pydantic_plugins, _usage, _workspace
from runner.cli.job import app as job_app
from runner.cli.ui import ui as ui_command
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

app = typer.Typer(
    name="runner",
    help="Run Azure-ML-style command jobs locally: models and data materialized by mode.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(job_app, name="job", help="Create, stream, show, list, cancel and download jobs.")


class _GroupOf(typer.Typer):
    """The group ``runner.cli.<module>.app``, imported when typer first reads it to build its commands: a
    command line naming another group never imports it (~1% of a cold ``runner job validate``)."""

    def __init__(self, module: str) -> None:  # (no Typer state of its own: every attribute is the app's)
        self._module = f"runner.cli.{module}"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # (copy and pickle ask for these: the class's answer)
            raise AttributeError(name)
        return getattr(importlib.import_module(self._module).app, name)


app.add_typer(_GroupOf("model"), name="model", help="Register and manage models.")
app.add_typer(_GroupOf("data"), name="data", help="Register and manage data assets.")
app.add_typer(_GroupOf("datastore"), name="datastore", help="Manage datastores.")
app.add_typer(_GroupOf("environment"), name="environment", help="Map Azure ML environments to local images.")
app.add_typer(_GroupOf("cache"), name="cache", help="Inspect and prune the download cache.")
app.command("ui", help="Serve the workspace in a web browser (needs runner\\[ui]).")(ui_command)
app.add_typer(_GroupOf("compute"), name="compute", help="Register Ray clusters that jobs run on.")
app.add_typer(_GroupOf("component"), name="component",
              help="Register and show command components (pipeline steps).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"runner {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: str = typer.Option(None, "--workspace", "-w", envvar="RUNNER_WORKSPACE",
                                  help="Workspace directory (default: ~/.local/share/runner). A folder "
                                       "that does not exist is created by the create commands (and job "
                                       "validate), refused by the others."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
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


# the root's own options (``_root``) that may come before a group's name: with a value, and flags
_ROOT_OPTIONS_WITH_VALUE = ("--workspace", "-w")
_ROOT_FLAGS = ("--debug", "--quiet", "-q", "--version")
_TREES: dict[str | None, Any] = {}  # the group it has (None: all of them; "job validate": one command)


def click_command() -> Callable[[], Any]:
    """The click command tree typer builds from ``app``, for this process's command line: built once
    (~25 ms of work that ``app()`` would redo on every call). Every command first checks the workspace
    it was given (``runner.cli._workspace``), takes az ml's common arguments and ignores them
    (``runner.cli._az_args``); a usage error is runner's one message (``runner.cli._usage``).

    A command line that names a group (``runner job validate ...``) gets a tree with that group only,
    and of that group the command it names right after it (``named_command``): the others would cost a
    cold start ~20 ms of typer's work and are never reached from it. Any other (the root's help, a name
    that is no group, an option the scan does not know: ``named_group``) gets the whole tree, as does
    every command of the warm fork server, which builds it once (``warm``)."""
    if None in _TREES:
        return _TREES[None]
    group = named_group(sys.argv[1:])
    command = named_command(sys.argv[1:], group)
    key = group if command is None else f"{group} {command}"
    if key not in _TREES:
        root = app
        if group is not None:
            root = copy.copy(app)  # the same root (callback, settings, the ui command), one group
            root.registered_groups = [_with_command(info, command) for info in app.registered_groups
                                      if info.name == group]
        _TREES[key] = _finished(typer.main.get_command(root))
    return _TREES[key]


def named_group(args: list[str]) -> str | None:
    """The group of ``app`` a command line names after the root's options (``job`` in ``-w ws job
    validate -f j.yml``); None when it names none, or has before it anything but the root's own options
    (``--help``, ``--``, ``-wDIR``): click then needs the whole tree (to list or suggest commands)."""
    index = _first_word(args)
    if index is None:
        return None
    word = args[index]
    return word if word in {info.name for info in app.registered_groups} else None


def named_command(args: list[str], group: str | None) -> str | None:
    """The command of ``group`` a command line names right after the group (``validate`` in ``job validate
    -f j.yml``); None when the next word is no command of it (an option: ``job --help`` lists them all; a
    mistyped name, whose error suggests one; a group within it) or there is none."""
    index = _first_word(args)
    if group is None or index is None or index + 1 >= len(args):
        return None
    names = [command.name for info in app.registered_groups if info.name == group
             for command in info.typer_instance.registered_commands]  # type: ignore[union-attr]
    return args[index + 1] if None not in names and args[index + 1] in names else None


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


def _with_command(info: Any, command: str | None) -> Any:
    """The group ``info`` with its command ``command`` only (None: all of it)."""
    if command is None:
        return info
    narrowed = copy.copy(info.typer_instance)
    narrowed.registered_commands = [one for one in narrowed.registered_commands if one.name == command]
    narrowed.registered_groups = []
    group = copy.copy(info)
    group.typer_instance = narrowed
    return group


def _finished(command: Any) -> Any:
    _workspace.guard_tree(command)
    _resuming_gc(command)
    _az_args.install(command)
    _usage.install(command)
    return command


def warm() -> None:
    """Build now what a command's first run would: the click tree, each parameter's converter, which
    typer builds lazily (~3 ms per command), the YAML and spec machinery's first-use setup (~2 ms),
    SQLite's and the Docker client (~5 ms). The fork server calls it once for all its children."""
    import sqlite3  # (the warm-up's imports are the fork server's, not the CLI's start-up)

    from runner.backends.docker_client import docker_client  # (for the fork server, not at CLI start-up)
    from runner.spec.load import spec_from_doc
    from runner.spec.yamlio import load_yaml_text
    from runner.workspace.datastore_kinds import datastore_adapter

    spec_from_doc(load_yaml_text(_WARM_JOB))
    sqlite3.connect(":memory:").close()  # the SQLite library's one-time set-up (~1 ms)
    with contextlib.suppress(Exception):  # a DOCKER_HOST it cannot use: the command will say so
        docker_client()
    if None not in _TREES:  # every group (their modules imported: _GroupOf), for every command forked
        _TREES[None] = _finished(typer.main.get_command(app))
    _complete_models()
    datastore_adapter()  # any datastore kind's validator (a cold command builds it at first use)
    commands: list[Any] = [click_command()]
    while commands:
        command = commands.pop()
        commands.extend(getattr(command, "commands", {}).values())
        # the --help option, made (and kept) by the first context of each command
        help_option = command.get_help_option(command.context_class(command))
        for param in [*command.params, help_option]:
            build = getattr(param, "get_runtime_param", None)  # typer >= 0.2x; older ones build eagerly
            if build is not None:
                build()


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
