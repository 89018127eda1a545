"""runner's errors in a browser user's words.

An error's hint says how to fix the problem in the CLI's words (flags, ``runner ...`` commands; its
``python_hint`` in the Python API's). A page or an ``/api`` answer says it in the UI's: the Register
form's fields by their labels (``use custom_model in the Type field``, not ``--type custom_model``), a
job's page for ``runner job show`` / ``stream``, a datastore's page for ``runner datastore show``, the UI's
lists for ``runner job list`` / ``runner model list``, and the workspace this UI serves for ``--workspace``
/ ``RUNNER_WORKSPACE``. A command a hint
gives on purpose (the form's advice to register another path with ``runner model create`` in a shell) is
kept: flags are rewritten only outside backticks.

    err = for_browser(err, "/home/me/ws", fields={"type": "Type", "path": "Path"})
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

from runner.errors import RunnerError

_UNKNOWN_JOB = "`runner job list` shows all jobs"  # runner.workspace.db: an unknown job's hint
_UNKNOWN_ASSET = re.compile(r"^`runner (model|data) list --include-archived` shows every ([a-z ]+)$")
_REGISTER_ASSET = re.compile(r"^register it: `runner (model|data) create [^`]*`$")  # none registered
_LISTS = {"model": "Models", "data": "Data"}
_JOB_COMMAND = re.compile(r"`runner job (?:show|stream) --name ([^`\s]+)`"
                          r"(?:, or `ml_client\.[^`]*` in Python)?")  # and its Python twin, if any
# runner.workspace.storage_errors' hint for a datastore's storage failure
_DATASTORE_COMMAND = re.compile(r"`runner datastore show --name ([^`\s]+)`")
_FLAG = re.compile(r"--([a-z_]+)(?: (?!-)([^\s,;)`]+))?")


def for_browser(err: RunnerError, workspace: str, *, fields: Mapping[str, str] | None = None) -> RunnerError:
    """``err`` with its hint in the UI's words (a copy; ``err`` itself when they are the same).
    ``fields``: the form's fields (flag name -> label) its flags become."""
    hint = browser_hint(err.hint, workspace, fields=fields or {})
    if hint == err.hint:
        return err
    copied = copy.copy(err)
    copied.hint = hint
    return copied


def browser_hint(hint: str | None, workspace: str, *, fields: Mapping[str, str]) -> str | None:
    if not hint:
        return hint
    if hint.startswith(_UNKNOWN_JOB):
        return (f"the Jobs list shows the jobs of the workspace this UI serves ({workspace}), archived ones "
                "with Show: active and archived; a job of another workspace is not among them")
    asset = _UNKNOWN_ASSET.match(hint)
    if asset:
        return (f"the {_LISTS[asset.group(1)]} list shows every {asset.group(2)} of the workspace this UI "
                f"serves ({workspace}), archived ones with Show: active and archived")
    register = _REGISTER_ASSET.match(hint)
    if register:
        kind = register.group(1)
        noun = "model" if kind == "model" else "data asset"
        return (f"the {_LISTS[kind]} list shows every {noun} of the workspace this UI serves ({workspace}), "
                f"none yet; `runner {kind} create` in a shell registers one (its --help says how)")
    hint = _JOB_COMMAND.sub(lambda m: f"the page /jobs/{m.group(1)}", hint)
    hint = _DATASTORE_COMMAND.sub(lambda m: f"the page /datastores/{m.group(1)}", hint)
    if not fields:
        return hint
    parts = hint.split("`")  # the odd parts are inside backticks: commands, kept as they are
    return "`".join(part if i % 2 else _FLAG.sub(lambda m: _field(m, fields), part)
                    for i, part in enumerate(parts))


def _field(flag: re.Match[str], fields: Mapping[str, str]) -> str:
    label = fields.get(flag.group(1))
    if label is None:
        return flag.group(0)
    value = flag.group(2)
    return f"{value} in the {label} field" if value else f"the {label} field"
