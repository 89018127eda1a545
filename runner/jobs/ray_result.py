"""What the follower takes from a Ray job's ``result.json`` on the compute's datastore: only what runner on
the node sends (``runner.jobs.node.result_of``), each field of its type, and of ``extra`` only the keys the
node's run records. The file lies in a container other jobs may reach, so anything else it holds (the
job's plan or Ray details, registrations, flags the submitting side sets) is dropped, never merged into
the record; a status that is not one a job ends with is dropped too (the follower records the job Failed).
Where it says outputs' staged data is kept (``held_back_outputs``, ``outputs_not_durable``'s "staged"),
read later on this machine by ``job download``, registrations and the UI, is kept only for the job's
declared outputs and inside their own staging folders here (``runner.workspace.upload_state.own_staged``);
where it says the node kept an output's staged data (``outputs_kept_on_node``) only for a declared output,
at a path of the node's keep-folder shape (``node_kept_path``): text to show, never read here.

    result, dropped = node_result(data)     # the known fields; what was dropped ("extra.plan", ...)
    note = keep_own_staged(result["extra"], ws.job_dir(job).outputs, declared_outputs(record))  # or None
    name_node_ip(result["extra"], ray["node_ip"])   # kept and removed entries name the node's IP too
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.workspace.db import JobStatus
from runner.workspace.upload_state import KEPT_KEY, NOT_DURABLE_KEY, REMOVED_KEY, own_staged

Check = Callable[[Any], bool]
ENDS = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELED.value)
SHOWN_KEYS = 20  # dropped keys a warning names, each cut to SHOWN_KEY_CHARS
SHOWN_KEY_CHARS = 60
SHOWN_PATH_CHARS = 240  # a dropped staged path a warning names, cut to that
KEEP_PREFIX = "runner-kept-"  # a node's keep folder of a job: <node dir>/runner-kept-<job>-<random>/<output>
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
KEPT_PATH_CHARS = 4096


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _mapping(key: Check, value: Check) -> Check:
    return lambda data: isinstance(data, dict) and all(key(k) and value(v) for k, v in data.items())


def _status_name(value: Any) -> bool:
    return value in {status.value for status in JobStatus}


def _not_durable(entry: Any) -> bool:
    """One output's ``outputs_not_durable`` entry (``runner.jobs.run.not_durable``)."""
    checks = {"failed": _optional(_whole), "total": _optional(_whole), "staged": _optional(_text)}
    return isinstance(entry, dict) and all(k in checks and checks[k](v) for k, v in entry.items())


def _kept(entry: Any) -> bool:
    """One output's ``outputs_kept_on_node`` entry (``runner.jobs.node_keep``)."""
    checks = {"host": _text, "path": _text, "files": lambda v: _whole(v) and v >= 0}
    return isinstance(entry, dict) and set(entry) == set(checks) and all(checks[k](entry[k]) for k in checks)


FIELDS: dict[str, Check] = {
    "status": lambda value: value in ENDS, "exit_code": _optional(_whole), "error": _optional(_text),
    "started_at": _optional(_time), "ended_at": _optional(_time), "image": _optional(_text),
    "image_id": _optional(_text), "container_id": _optional(_text),
    "outputs_partial": lambda value: isinstance(value, bool), "node": _optional(_text),
    "extra": lambda value: isinstance(value, dict)}
EXTRA: dict[str, Check] = {
    "status_times": _mapping(_status_name, _time), "timings_s": _mapping(_text, _number),
    "late_cancel": _text, "held_back_outputs": _mapping(_text, _text), "held_back_why": _text,
    "network": _text,  # the container's network on the node, and why (``runner.jobs.run``)
    "warnings": lambda value: isinstance(value, list),  # its items: text only (``merge_warnings``)
    NOT_DURABLE_KEY: _mapping(_text, _not_durable), KEPT_KEY: _mapping(_text, _kept),
    REMOVED_KEY: _mapping(_text, _text)}


def node_result(data: bytes) -> tuple[dict[str, Any], list[str]]:
    """The node's result with only its known fields of their types (``extra`` always there, with only
    its known keys), and the names of what was dropped (``extra.<key>`` for a key of ``extra``)."""
    try:
        found = json.loads(data)
    except ValueError:
        return {"extra": {}}, ["(the result is no JSON)"]
    if not isinstance(found, dict):
        return {"extra": {}}, ["(the result is no JSON object)"]
    kept, dropped = _known(found, FIELDS, "")
    extra, dropped_extra = _known(kept.get("extra") or {}, EXTRA, "extra.")
    return {**kept, "extra": extra}, dropped + dropped_extra


def _known(data: dict[Any, Any], checks: dict[str, Check], prefix: str) -> tuple[dict[str, Any], list[str]]:
    kept = {key: value for key, value in data.items() if key in checks and checks[key](value)}
    dropped = [prefix + ascii(key)[1:-1][:SHOWN_KEY_CHARS] if isinstance(key, str) else ascii(key)
               for key in data if key not in kept]
    return kept, dropped


def dropped_words(dropped: list[str]) -> str:
    """The dropped names for a warning, at most ``SHOWN_KEYS`` of them."""
    more = len(dropped) - SHOWN_KEYS
    return ", ".join(dropped[:SHOWN_KEYS]) + (f" and {more} more" if more > 0 else "")


def keep_own_staged(extra: dict[str, Any], outputs: Path, declared: Collection[str]) -> str | None:
    """Drop from the node's ``extra`` (in place) each held-back output and each ``outputs_not_durable`` entry
    that is no ``declared`` output, and each staged path that is not the output's own staging folder under
    ``outputs`` (``own_staged``: a staged path alone is emptied, its counts kept); the one warning saying
    what was dropped (None: nothing)."""
    dropped: list[str] = []

    def own(name: str, path: object) -> bool:
        return name in declared and own_staged(outputs, name, path) is not None

    held = extra.get("held_back_outputs")
    if isinstance(held, dict):
        dropped += [f"held_back_outputs.{_shown(n)} ({_path(p)})" for n, p in held.items() if not own(n, p)]
        extra["held_back_outputs"] = {n: p for n, p in held.items() if own(n, p)}
        if not extra["held_back_outputs"]:
            del extra["held_back_outputs"]
    failed = extra.get(NOT_DURABLE_KEY)
    if isinstance(failed, dict):
        dropped += [f"{NOT_DURABLE_KEY}.{_shown(n)}" for n in failed if n not in declared]
        kept = {n: dict(entry) for n, entry in failed.items() if n in declared}
        for name, entry in kept.items():
            if entry.get("staged") is not None and not own(name, entry["staged"]):
                dropped.append(f"{NOT_DURABLE_KEY}.{_shown(name)}.staged ({_path(entry['staged'])})")
                entry["staged"] = None
        extra[NOT_DURABLE_KEY] = kept
        if not kept:
            del extra[NOT_DURABLE_KEY]
    dropped += _keep_node_kept(extra, outputs.parent.name, declared)
    removed = extra.pop(REMOVED_KEY, None)  # output -> the node that removed its staged data: text only
    if isinstance(removed, dict):
        known = {n: h for n, h in removed.items()
                 if n in declared and isinstance(h, str) and _HOST.fullmatch(h)}
        dropped += [f"{REMOVED_KEY}.{_shown(n)}" for n in removed if n not in known]
        if known:
            extra[REMOVED_KEY] = known
    if not dropped:
        return None
    return (f"the node's result named staged data of no declared output, or outside its own staging folder "
            f"here ({outputs}/<output>) or its keep folder on the node ({KEEP_PREFIX}{outputs.parent.name}-*/"
            f"<output>), dropped: {dropped_words(dropped)}")


def name_node_ip(extra: dict[str, Any], ip: str | None) -> None:
    """The node's IP as Ray told it (``ip``) beside its name, in place: each ``KEPT_KEY`` entry's ``ip``, each
    ``REMOVED_KEY`` entry as ``host (ip)`` (as ``kept_on_node`` shows a kept one: several nodes of one host
    told apart); nothing without an IP."""
    if not ip:
        return
    for kept in (extra.get(KEPT_KEY) or {}).values():
        kept["ip"] = ip
    if removed := extra.get(REMOVED_KEY):
        shown = {name: host if host == ip else f"{host} ({ip})" for name, host in removed.items()}
        extra[REMOVED_KEY] = shown


def _keep_node_kept(extra: dict[str, Any], job: str, declared: Collection[str]) -> list[str]:
    """Drop (in place) each ``outputs_kept_on_node`` entry that is no declared output's, on no host name, or
    not at a keep folder of this job on the node (``node_kept_path``); what was dropped."""
    kept = extra.get(KEPT_KEY)
    if not isinstance(kept, dict):
        return []
    good = {name: entry for name, entry in kept.items() if name in declared and _kept(entry)
            and _HOST.fullmatch(entry["host"]) and node_kept_path(entry["path"], job, name)}
    extra[KEPT_KEY] = good
    if not good:
        del extra[KEPT_KEY]
    return [f"{KEPT_KEY}.{_shown(n)} ({_path(e.get('path') if isinstance(e, dict) else e)})"
            for n, e in kept.items() if n not in good]


def node_kept_path(path: str, job: str, name: str) -> bool:
    """Whether ``path`` (text: never looked at here) is as a node keeps output ``name`` of ``job``: absolute,
    as written (no ``..``, no doubled or trailing slash), printable, ``.../runner-kept-<job>-*/<name>``."""
    if not (0 < len(path) <= KEPT_PATH_CHARS and path.isprintable() and path.startswith("/")
            and os.path.normpath(path) == path and path != "/"):
        return False
    parent, _, last = path.rpartition("/")
    return last == name and parent.rpartition("/")[2].startswith(f"{KEEP_PREFIX}{job}-")


def _shown(value: object, cut: int = SHOWN_KEY_CHARS) -> str:
    return ascii(value)[1:-1][:cut] if isinstance(value, str) else ascii(value)[:cut]


def _path(value: object) -> str:
    return _shown(value, SHOWN_PATH_CHARS)
