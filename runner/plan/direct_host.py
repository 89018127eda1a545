"""A ``direct`` binding gives the job a URL to open itself. A URL whose last link is a file on this machine
(an archive here, ``zip://<member>::file:///<archive>``; a datastore caching a folder here,
``simplecache::file:///<folder>/<path>``) names a host file the job's container does not hold, so it
cannot open it there: one ``SpecError`` before the job is queued (``job validate`` too), naming the modes
that bring the data in. A plain host path is bound into the container at the same path, so it opens; and
on a backend running jobs on this machine (``process``) the URL opens as it is. Pure: the plan only.

    if backend.capabilities.in_container:
        refuse_direct_host_url(binding)  # SpecError on inputs.<name>.path / outputs.<name>.path
"""

from __future__ import annotations

from runner.errors import SpecError
from runner.modes import Direction, Mode
from runner.plan.types import Binding
from runner.uris import HOST_PROTOCOLS, fsspec_protocols, without_password


def over_host_file(url: str) -> bool:
    """Whether ``url`` (a ``direct`` binding's value) is a URL whose last link is this machine's file."""
    return "://" in url and fsspec_protocols(url)[-1] in HOST_PROTOCOLS


def refuse_direct_host_url(binding: Binding) -> None:
    """One ``SpecError`` (on ``<inputs|outputs>.<name>.path``) for a ``direct`` binding whose URL reads this
    machine's file: the job's container cannot open it."""
    if binding.mode is not Mode.DIRECT or not over_host_file(binding.value):
        return
    url = without_password(binding.value)
    host_file = url.rsplit("::", 1)[-1]
    if binding.direction is Direction.INPUT:
        modes = "mode: download or mode: ro_mount (the runner reads the URL and brings the data in)"
    else:
        modes = "mode: upload or mode: rw_mount (the runner writes what the job leaves there)"
    shown = f" ({binding.uri})" if binding.uri != binding.value else ""
    raise SpecError(f"{binding.direction.value} '{binding.name}'{shown} is direct, so the job gets the URL "
                    f"'{url}' to open itself, but the job's container cannot open it: its last link, "
                    f"'{host_file}', is a file on this machine, which is not in the container",
                    field=f"{binding.key.split('/', 1)[0]}.{binding.name}.path",
                    hint=f"use {modes}, or run the job on this machine (compute: local-process, or "
                         "--backend process), where the URL opens",
                    python_hint=f"use {modes}, or run the job on this machine (compute='local-process', or "
                                "backend='process'), where the URL opens")
