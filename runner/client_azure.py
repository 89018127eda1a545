"""What ``MLClient`` does with azure.ai.ml's arguments and config file (``runner.client``).

    check_keywords(kwargs)                     # azure.ai.ml's other keywords pass; a misspelling: SpecError
    client_from_config(MLClient, credential, path, file_name, workspace_dir, kwargs)   # from_config
    warn_azure_workspace(names, workspace)     # the one warning: the Azure workspace is not used here

Azure's ``subscription_id``, ``resource_group_name`` and ``workspace_name`` pick an Azure workspace; here the
workspace is a local folder: ``workspace_dir=``, else a config file's ``runner_workspace`` (relative to the
file), else ``RUNNER_WORKSPACE``, else the default. A client given Azure's names and none of the first two
is warned once (logger ``runner.client``), naming the folder it uses, since every such client shares it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from runner.errors import SpecError
from runner.spec.asset import azure_keywords
from runner.workspace.location import WORKSPACE_ENV, chosen_workspace_dir

logger = logging.getLogger("runner.client")
C = TypeVar("C")

TAKES = ("credential", "subscription_id", "resource_group_name", "workspace_name", "registry_name",
         "workspace_dir")
# azure.ai.ml's MLClient keywords (and azure-core's pipeline options) that mean nothing locally
AZURE_ONLY = ("show_progress", "enable_telemetry", "cloud", "cloud_metadata", "user_agent", "base_url",
              "registry_reference", "workspace_reference", "logging_enable", "connection_timeout",
              "read_timeout", "retry_total", "proxies", "transport", "credential_scopes")
CONFIG_KEY = "runner_workspace"  # runner's key in an Azure config.json: the local workspace it stands for
_CONFIG_DIRS = (".azureml", "aml_config", None)  # where azure.ai.ml looks in each folder, in this order
_CONFIG_LEVELS = 20  # how many folders up it looks


@dataclass(frozen=True)
class AzureConfig:
    """An Azure config file's workspace (``subscription_id``, ``resource_group``, ``workspace_name``, or
    its ``Scope``) and ``runner_workspace`` (absolute; None when it has none)."""

    path: Path
    names: dict[str, str]
    workspace_dir: Path | None


def check_keywords(kwargs: Mapping[str, Any]) -> None:
    """azure.ai.ml's other keywords are taken and dropped (logged at debug level); any other is one
    ``SpecError`` naming it and the close one, as ``Model(...)``'s."""
    azure_keywords("MLClient", kwargs, TAKES, AZURE_ONLY, listed=[
        *TAKES[:-1], "workspace_dir (the local workspace folder; or set RUNNER_WORKSPACE)"])


def client_from_config(cls: Callable[..., C], credential: Any, path: str | os.PathLike[str] | None,
                       file_name: str | None, workspace_dir: str | Path | None, kwargs: dict[str, Any]) -> C:
    """``MLClient.from_config``: a client with the Azure names of the config file found (none is fine
    without ``path``), on ``workspace_dir``, else the file's ``runner_workspace``, else ``RUNNER_WORKSPACE``
    or the default (warned of when the file names an Azure workspace)."""
    found = find_config(path, file_name)
    config = read_config(found) if found is not None else None
    names = config.names if config is not None else {}
    chosen = workspace_dir if workspace_dir is not None else config.workspace_dir if config else None
    folder = chosen_workspace_dir(chosen)
    client = cls(credential, names.get("subscription_id"), names.get("resource_group"),
                 names.get("workspace_name"), workspace_dir=folder, **kwargs)
    if chosen is None and config is not None:
        warn_azure_workspace(names, Path(folder).expanduser().resolve(), config=config.path)
    return client


def find_config(path: str | os.PathLike[str] | None, file_name: str | None) -> Path | None:
    """The config file ``MLClient.from_config`` reads, found as azure.ai.ml's: ``path`` itself when it is
    a file, else ``file_name`` (``config.json`` or ``project.json``) in ``.azureml/``, ``aml_config/`` or
    the folder itself, from ``path`` (default: the current folder) up. None when there is none and no
    ``path`` was given; an explicit ``path`` that leads to none is a ``SpecError``."""
    start = Path.cwd() if path is None else Path(path).expanduser()
    if start.is_file():
        return start.absolute()
    names = [file_name] if file_name else ["config.json", "project.json"]
    if start.is_dir():
        folders = [start.absolute(), *list(start.absolute().parents)[:_CONFIG_LEVELS]]
        for sub in _CONFIG_DIRS:
            for name in names:
                for folder in folders:
                    found = folder / sub / name if sub else folder / name
                    if found.is_file():
                        return found
    if path is None:
        return None
    problem = f"{start} does not exist" if not start.exists() else (
        f"no config file ({' or '.join(names)}) in {start}, the folders above it, or their .azureml/ or "
        "aml_config/")
    raise SpecError(f"MLClient.from_config: {problem}", field="path",
                    hint="give path= the config file or the folder that holds it, or leave path out; the "
                         f"local workspace is chosen with workspace_dir=..., the file's \"{CONFIG_KEY}\" "
                         f"key, or {WORKSPACE_ENV}")


def read_config(path: Path) -> AzureConfig:
    """The file's Azure workspace names and ``runner_workspace``; a file that is not a JSON object, or whose
    ``runner_workspace`` is not a non-empty text, is one ``SpecError`` naming it."""
    fix = (f'write a JSON object: {{"subscription_id": ..., "resource_group": ..., "workspace_name": ..., '
           f'"{CONFIG_KEY}": "<local workspace folder>"}}')
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"MLClient.from_config: cannot read {path}: {exc.strerror or exc}", field="path",
                        hint="give path= a readable config file") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpecError(f"MLClient.from_config: {path} is not JSON ({exc})", field="path", hint=fix) from exc
    if not isinstance(data, dict):
        raise SpecError(f"MLClient.from_config: {path} is not a JSON object", field="path", hint=fix)
    names = {k: data[k] for k in ("subscription_id", "resource_group", "workspace_name")
             if isinstance(data.get(k), str)}
    scope = data.get("Scope")
    if isinstance(scope, str) and len(pieces := scope.split("/")) > 8:  # /subscriptions/<s>/resourceGroups/..
        names = {"subscription_id": pieces[2], "resource_group": pieces[4], "workspace_name": pieces[8]}
    chosen = data.get(CONFIG_KEY)
    if chosen is not None and (not isinstance(chosen, str) or not chosen.strip()):
        raise SpecError(f'MLClient.from_config: {path}: "{CONFIG_KEY}" is {json.dumps(chosen)}, not a folder',
                        field=CONFIG_KEY, hint=f'write "{CONFIG_KEY}": "<local workspace folder>" (relative '
                                               "to the file), or leave the key out")
    workspace = None if chosen is None else path.parent / Path(chosen).expanduser()
    return AzureConfig(path, names, workspace)


def warn_azure_workspace(names: Mapping[str, str | None], workspace: Path, *, config: Path | None = None
                         ) -> None:
    """The one warning for a client given Azure's workspace names (``names``: by argument, or in the
    ``config`` file) and no local workspace: which folder it uses, where that came from, how to choose one."""
    given = ", ".join(f"{k}='{v}'" for k, v in names.items() if v)
    if not given:
        return
    came_from = WORKSPACE_ENV if os.environ.get(WORKSPACE_ENV) else "the default"
    if config is None:
        what, choose = f"MLClient({given})", f"MLClient(workspace_dir=...) or {WORKSPACE_ENV}"
    else:
        what = f"MLClient.from_config: the config file {config} ({given})"
        choose = f'from_config(..., workspace_dir=...), a "{CONFIG_KEY}" key in that file, or {WORKSPACE_ENV}'
    logger.warning("%s: an Azure workspace is not used here; this client uses the local workspace %s (%s), "
                   "as every client that chooses none does; choose one with %s", what, workspace, came_from,
                   choose)
