"""A ``direct`` binding gives the job a URL to open itself. A URL whose last link is a file on this machine
(an archive here, ``zip://<member>::file:///<archive>``; a datastore caching a folder here,
``simplecache::file:///<folder>/<path>``) names a host file:

- for an input, on every backend: the job would open this machine's file in place and could write it
  through the URL (fsspec's caches write back to it, an archive is appended to), while inputs are
  read-only; and a job's container cannot open it at all. One ``SpecError`` naming the modes that bring
  the data in read-only (``ro_mount``, ``download``).
- for an output, in a container only: the container does not hold the file, so it cannot open it; on a
  backend running jobs on this machine (``process``) the URL opens, and an output is the job's to write.

A plain host path is no URL: bound at the same path, read-only for an input (a read-only view on the
``process`` backend), so it plans. One ``SpecError`` before the job is queued (``job validate`` too). Pure:
the plan only.

    refuse_direct_host_url(binding, in_container=backend.capabilities.in_container)
    # SpecError on inputs.<name>.path / outputs.<name>.path
"""

from __future__ import annotations

from runner.errors import SpecError
from runner.fsspec_links import HOST_PROTOCOLS, fsspec_protocols
from runner.modes import Direction, Mode
from runner.plan.types import Binding
from runner.uris import without_password

_INPUT_FIX = ("use mode: ro_mount or mode: download (the runner reads the URL and brings the data in, "
              "read-only)")
_PYTHON_INPUT_FIX = ("use mode='ro_mount' or mode='download' (the runner reads the URL and brings the data "
                     "in, read-only)")


def over_host_file(url: str) -> bool:
    """Whether ``url`` (a ``direct`` binding's value) is a URL whose last link is this machine's file."""
    return "://" in url and fsspec_protocols(url)[-1] in HOST_PROTOCOLS


def refuse_direct_host_url(binding: Binding, *, in_container: bool = True) -> None:
    """One ``SpecError`` (on ``<inputs|outputs>.<name>.path``) for a ``direct`` binding whose URL reads this
    machine's file: an input's on every backend (it could be written through), an output's when the job
    runs in a container (``in_container``: the container cannot open it)."""
    if binding.mode is not Mode.DIRECT or not over_host_file(binding.value):
        return
    url = without_password(binding.value)
    host_file = url.rsplit("::", 1)[-1]
    shown = f" ({binding.uri})" if binding.uri != binding.value else ""
    field = f"{binding.key.split('/', 1)[0]}.{binding.name}.path"
    gets = f"{binding.direction.value} '{binding.name}'{shown} is direct, so the job gets the URL '{url}'"
    if binding.direction is Direction.INPUT:
        raise SpecError(f"{gets} to open itself, but its last link, '{host_file}', is a file on this "
                        "machine: a job run on this machine would open it in place and could write it "
                        "through that URL, while an input is read-only (and a job's container cannot open it "
                        "at all)",
                        field=field, hint=_INPUT_FIX, python_hint=_PYTHON_INPUT_FIX)
    if not in_container:
        return
    modes = "mode: upload or mode: rw_mount (the runner writes what the job leaves there)"
    raise SpecError(f"{gets} to open itself, but the job's container cannot open it: its last link, "
                    f"'{host_file}', is a file on this machine, which is not in the container",
                    field=field,
                    hint=f"use {modes}, or run the job on this machine (compute: local-process, or "
                         "--backend process), where the URL opens",
                    python_hint=f"use {modes}, or run the job on this machine (compute='local-process', or "
                                "backend='process'), where the URL opens")
