"""az ml's common arguments, which a script ported from az passes to every command
(``az ml job create -f job.yml -g rg -w ws``): every runner command takes ``--resource-group/-g``,
``--workspace-name/-w`` and ``--subscription`` after its name, and ignores them with one warning line on
stderr, which names the workspace folder runner runs against instead (``RUNNER_WORKSPACE``, or
``runner -w <folder>`` before the command: runner's own option, unchanged).

A value of ``-w``/``--workspace-name`` that is a folder (a path, or a folder that exists here) is
refused, not ignored: it is runner's ``-w`` given after the command, where it would otherwise be dropped
and the command run against another workspace. (No command has a ``-w`` or ``-g`` of its own.)

``install`` adds them (hidden from ``--help``) to every command of the click tree (``runner.cli.main``:
the root's own, and each group's as it is first imported).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import click

from runner.cli import _common
from runner.errors import SpecError

# each one's parameter name (unique among every command's) -> its name in the warning
IGNORED = {"az_resource_group": "--resource-group", "az_workspace_name": "--workspace-name",
           "az_subscription": "--subscription"}


def _options() -> list[click.Option]:
    """The three options, hidden from ``--help`` (new ones for each group: click keeps none of its own)."""
    return [
        click.Option(["--resource-group", "-g", "az_resource_group"], default=None, hidden=True,
                     help="az ml's resource group: ignored."),
        click.Option(["--workspace-name", "-w", "az_workspace_name"], default=None, hidden=True,
                     help="az ml's workspace name: ignored (runner's workspace folder is runner -w <folder> "
                          "before the command)."),
        click.Option(["--subscription", "az_subscription"], default=None, hidden=True,
                     help="az ml's subscription: ignored."),
    ]


def install(root: Any, prefix: str = "") -> None:
    """Give every command below the click command ``root`` (named ``prefix`` below ``runner``: ``"job"``)
    az ml's common arguments."""
    params = _options()
    pending: list[tuple[str, Any]] = [(prefix, root)]
    while pending:
        path, command = pending.pop()
        subcommands: dict[str, Any] = getattr(command, "commands", {})
        if not subcommands and command.callback is not None:
            command.params.extend(params)
            command.callback = _ignoring(command.callback, path)
        pending.extend((f"{path} {name}".strip(), sub) for name, sub in subcommands.items())


def _ignoring(callback: Any, path: str) -> Any:
    @functools.wraps(callback)
    def ignoring(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name, None) for name in IGNORED}
        workspace_name = values["az_workspace_name"]
        if workspace_name is not None and _is_folder(workspace_name):
            raise SpecError(f"'{workspace_name}' is a folder, but -w (--workspace-name) after the command is "
                            "az ml's workspace name, which runner ignores", field="--workspace-name",
                            hint="give runner's workspace folder before the command: "
                                 f"runner -w {workspace_name} {path} ... (or set RUNNER_WORKSPACE)")
        given = [IGNORED[name] for name, value in values.items() if value is not None]
        if given:
            print(f"warning: ignored {', '.join(given)} (az ml's Azure workspace): runner runs against its "
                  f"workspace folder {workspace_folder()} (choose it with RUNNER_WORKSPACE or "
                  "runner -w <folder> before the command)", file=sys.stderr, flush=True)
        return callback(*args, **kwargs)
    return ignoring


def _is_folder(value: str) -> bool:
    """A ``-w`` value meant as runner's workspace folder: a path, or a folder that exists (an Azure ML
    workspace name has neither a path separator nor a leading ``.`` or ``~``)."""
    separators = [os.sep, "/", *([os.altsep] if os.altsep else [])]
    if any(sep in value for sep in separators) or value.startswith((".", "~")):
        return True
    try:
        return Path(value).is_dir()
    except OSError:  # a name too long to be a path, say
        return False


def workspace_folder() -> Path:
    """The workspace folder this command runs against (``runner -w``, ``RUNNER_WORKSPACE``, else the
    default)."""
    if _common.STATE.workspace is not None:
        return Path(_common.STATE.workspace).expanduser().absolute()
    from runner.workspace.location import default_workspace_dir  # (small: os and pathlib)

    return default_workspace_dir()
