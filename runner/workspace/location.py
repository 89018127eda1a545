"""Which folder is the workspace: the one given, else ``RUNNER_WORKSPACE``, else the default
(``$XDG_DATA_HOME/runner`` or ``~/.local/share/runner``). ``runner.workspace.db.Workspace`` opens it."""

from __future__ import annotations

import os
from pathlib import Path

from runner.errors import SpecError

WORKSPACE_ENV = "RUNNER_WORKSPACE"


def default_workspace_dir() -> Path:
    """``$XDG_DATA_HOME/runner`` or ``~/.local/share/runner``."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "runner"


def chosen_workspace_dir(root: str | Path | None) -> str | Path:
    """``root``, else ``RUNNER_WORKSPACE``, else the default; an explicitly empty one is an error (it
    used to mean the default workspace, silently)."""
    if root is not None and not str(root).strip():
        raise SpecError("the workspace directory given is empty", field="workspace_dir",
                        hint="give a workspace directory, or leave it out for the default "
                             f"({default_workspace_dir()})")
    if root is not None:
        return root
    env = os.environ.get(WORKSPACE_ENV)
    if env is not None and not env.strip():
        raise SpecError(f"{WORKSPACE_ENV} is set but empty",
                        hint=f"set {WORKSPACE_ENV} to a workspace directory, or unset it "
                             f"(`unset {WORKSPACE_ENV}`) for the default ({default_workspace_dir()})")
    return env or default_workspace_dir()
