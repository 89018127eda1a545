"""Masking, once, the secret ``environment_variables`` (and ``-e NAME=VALUE`` in
``resources.docker_args``) a runner before their masking left in the job records of a workspace
(``runner.plan.env_secrets`` says which are secrets; records are stored in ``runner.db``'s ``jobs``
table only: no file in a job's folder holds one).

Such a runner kept the real values in a job's spec and in its plan (``extra.plan``: ``env`` and
``host_env``; ``resources.docker_args``), and in a pipeline's spec and its steps' specs
(``extra.pipeline``). ``mask_old_jobs``, run when a workspace's jobs are opened
(``runner.jobs.operations.JobOperations``: every job command, the UI, ``ml_client.jobs``; not
``Workspace`` itself, as the rule is ``runner.plan``'s, a layer above, and given as ``rule``), does what
a new runner writes, in place:

- each such value is ``***`` (docker_args' ``NAME=***``) and the plan names its secrets (``secret_env``;
  docker_args' as ``docker_args --env=NAME``, ``DOCKER_KEY``), as ``runner.plan.build`` records them;
- a job that will still run (Queued, not on Ray: a Ray job's values are in its package) keeps its values
  in its owner-only ``secrets/job-<name>.json`` (under its ``secret_env`` keys; a pipeline: ``{step:
  {name: value}}``, its steps' ``environment_variables`` only: a step's docker_args secret is refused
  when the step is planned, so it is only masked), written first, as a new file renamed over its name
  (a link there is replaced, never followed; a secrets folder that is a link leaves everything for a
  later open, with one warning), so its run gets them;
- the ``step_reuse`` rows of the steps whose fingerprint digested a secret's plain value
  (``runner.pipelines.reuse`` keys them now, so those rows never match again) are dropped;
- a record in a shape no runner writes (a plan's ``secret_env`` not a list of names: it then names the
  plan's secrets; one the masking cannot read: every secret found in it masked, none kept for a run) is
  masked as far as its secrets are found, said in one warning (what was wrong, never a value), and never
  stops the other records' masking or the job commands;
- every row is rewritten in one transaction with ``secure_delete`` on; then, as for datastore rows
  (``runner.workspace.datastore_secrets``), free pages are rewritten where this SQLite leaves them as
  they were, and the WAL is checkpointed and emptied: no copy of an old record stays on disk.

Once: ``meta``'s ``job_env_secrets_masked`` records that it was done (a new workspace's first open
records it too), so later ones read one row; the same marker since docker_args joined, as no runner
that masked ``environment_variables`` only was released. Not a schema change: the records keep their
form, and an older runner reads and writes them as before (one from before the masking still writes its
own jobs with their values, as it always did). 10,000 jobs, each with secrets: about 1.5 s of CPU, once
(none with secrets: 0.3 s); every later open: one read of ``meta``.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from runner.errors import StorageError
from runner.workspace.datastore_secrets import scrub
from runner.workspace.db import Workspace
from runner.workspace.secret_files import secrets_folder, write_owner_only

logger = logging.getLogger(__name__)

DONE_KEY = "job_env_secrets_masked"
_QUEUED = "Queued"
_RAY = "ray"  # extra key of a job run on a Ray cluster (runner.jobs.ray_submit)
_PIPELINE = "pipeline"  # extra key of a pipeline's plan (runner.pipelines.step_rows.PIPELINE_KEY)
_DOCKER_ARGS = re.compile(r'"docker_args":\s*(?:\[\s*)?"')  # docker_args set (not [], an empty plan's)


class SecretRule(Protocol):
    """Which ``environment_variables`` are secrets and how a record masks them: ``runner.plan.env_secrets``
    (the one rule), given by the caller."""

    MASK: str
    DOCKER_KEY: str

    def is_secret(self, name: str, value: object) -> bool: ...

    def docker_secrets(self, args: Sequence[str]) -> dict[str, str]: ...

    def masked_docker_args(self, args: Sequence[str]) -> list[str]: ...

    def masked_spec(self, data: Any) -> Any: ...

    def masked(self, env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]: ...

    def secret_names(self, variables: Mapping[str, str], env: Mapping[str, str]) -> tuple[str, ...]: ...

    def secret_values(self, variables: Mapping[str, Any], names: Iterable[str] | None = None
                      ) -> dict[str, str]: ...


def mask_old_jobs(ws: Workspace, rule: SecretRule) -> list[str]:
    """Mask what older runners left in the job records (see the module docstring), unless done; the
    names of the jobs changed. Never raises: a workspace that cannot be written now is masked later."""
    try:
        with ws.reading() as conn:
            if _done(conn):
                return []  # the common case: one read, no lock
            zeroes_freed_space = conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
            conn.execute("PRAGMA secure_delete=ON")  # the old cells are overwritten, not only unlinked
        try:
            with ws.transaction() as conn:
                done = _done(conn)  # again under the write lock: another process may have done it
                changed, dropped, odd = ([], 0, {}) if done else _mask_records(conn, ws.secrets_dir,
                                                                                _Rule(rule))
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, 1)", (DONE_KEY,))
        finally:
            with ws.reading() as conn:
                conn.execute(f"PRAGMA secure_delete={int(zeroes_freed_space)}")
    except (sqlite3.Error, OSError, StorageError) as exc:  # a read-only or full disk, a planted link
        message = exc.render() if isinstance(exc, StorageError) else str(exc)
        logger.warning("the secret environment_variables (and docker_args) older runners kept in job records "
                       "were not masked (tried again the next time the workspace is opened): %s", message)
        return []
    if odd:
        logger.warning("%d job record(s) an older runner wrote were not in a shape runner writes: masked "
                       "wherever a secret was found in them, the job commands read them as before: %s",
                       len(odd), "; ".join(f"{name}: {why}" for name, why in odd.items()))
    if changed or dropped:
        with ws.reading() as conn:
            scrub(conn, vacuum=not zeroes_freed_space, what="job records")
        logger.info("%d job record(s) kept secret environment_variables or docker_args in plain text (an "
                    "older runner wrote them): masked; %d reuse fingerprint(s) digested them: dropped",
                    len(changed), dropped)
    return changed


def _done(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key = ?", (DONE_KEY,)).fetchone() is not None


def _mask_records(conn: sqlite3.Connection, secrets_dir: Path, rule: _Rule
                  ) -> tuple[list[str], int, dict[str, str]]:
    """Under the write lock: the values of the jobs still to run kept first, then every record masked and
    the reuse rows that digested a secret dropped. The names of the jobs masked, the rows dropped, and
    what was wrong with each record not in a shape runner writes (masked as far as its secrets are found:
    a malformed one never stops the others, nor the job commands)."""
    masked: dict[str, str] = {}
    odd: dict[str, str] = {}
    kept: dict[str, dict[str, Any]] = {}
    had_secrets: set[str] = set()
    for name, status, text in conn.execute("SELECT name, status, record FROM jobs"):
        if "environment_variables" not in text and not _DOCKER_ARGS.search(text):
            continue  # no spec has any, no docker_args: nothing to mask (most records of most workspaces)
        try:
            record = json.loads(text)
        except ValueError:
            continue  # not ours to fix: reading it says what is wrong
        if not isinstance(record, dict):
            continue
        rule.notes.clear()
        try:
            new, values, had = _masked(rule, record)
        except Exception as exc:  # noqa: BLE001 - a shape no runner wrote: masked wherever a secret is
            rule.notes.append(f"not readable as a job record ({type(exc).__name__}): its secrets masked "
                              "wherever found, none kept for a run (create it again if it is to run)")
            new, values, had = _masked_anywhere(rule, record), {}, True
        if rule.notes:
            odd[name] = "; ".join(rule.notes)
        if new is not None:
            masked[name] = json.dumps(new, separators=(",", ":"))  # as pydantic writes
            if values and status == _QUEUED and _RAY not in _mapping(record.get("extra")):
                kept[name] = values
        if had:
            had_secrets.add(name)
    if kept:
        _keep(secrets_dir, kept)
    conn.executemany("UPDATE jobs SET record = ? WHERE name = ?", [(r, n) for n, r in masked.items()])
    stale = [(key,) for key, job in conn.execute("SELECT fingerprint, job_name FROM step_reuse")
             if job in had_secrets]
    conn.executemany("DELETE FROM step_reuse WHERE fingerprint = ?", stale)
    return list(masked), len(stale), odd


class _Rule:
    """The rule, each variable's name and value judged once in a pass (jobs repeat their variables)."""

    def __init__(self, rule: SecretRule) -> None:
        self.of = rule
        self._judged: dict[tuple[str, str], bool] = {}
        self.notes: list[str] = []  # what is wrong with the record being masked (never a value)

    def is_secret(self, name: str, value: Any) -> bool:
        key = (name, "" if value is None else str(value))
        if key not in self._judged:
            self._judged[key] = self.of.is_secret(*key)
        return self._judged[key]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _variables(data: Any) -> dict[str, Any]:
    return _mapping(_mapping(data).get("environment_variables"))


def _masked(rule: _Rule, record: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any], bool]:
    """The record as a new runner writes it (None: it is already), what its run would keep (as
    ``runner.jobs.submit`` / ``runner.pipelines.submit`` keep it: a job's secret values its plan gives
    the job, a pipeline's ``{step: values}``), and whether its job had secrets (its reuse fingerprint, if
    any, digested their plain values)."""
    spec, extra = record.get("spec"), _mapping(record.get("extra"))
    pipeline, plan = extra.get(_PIPELINE), extra.get("plan")
    variables = _variables(spec)
    new_spec, new_pipeline = rule.of.masked_spec(spec), rule.of.masked_spec(pipeline)
    new_plan, names, docker = _masked_plan(rule, plan, variables)
    had = bool(names) or rule.of.MASK in variables.values() or new_spec != spec  # a docker_args' too
    if new_spec == spec and new_pipeline == pipeline and new_plan is plan:
        return None, {}, had
    values: dict[str, Any]
    if isinstance(pipeline, dict):
        steps = {step: rule.of.secret_values(_variables(data.get("spec")))
                 for step, data in _mapping(pipeline.get("steps")).items() if isinstance(data, dict)}
        values = {step: found for step, found in steps.items() if found}
    else:
        given = [n for n in names if variables.get(n) not in (None, rule.of.MASK)]
        values = {**rule.of.secret_values(variables, given), **docker}
    new_extra = {**extra, **({} if pipeline is None else {_PIPELINE: new_pipeline}),
                 **({} if plan is None else {"plan": new_plan})}
    return {**record, "spec": new_spec, "extra": new_extra}, values, True


def _masked_plan(rule: _Rule, plan: Any, variables: dict[str, Any]
                 ) -> tuple[Any, list[str], dict[str, str]]:
    """A job's stored plan with its ``env``/``host_env`` secrets and its docker_args' ``***`` and named in
    ``secret_env`` (the same plan when it is so already), those names, and the real values its docker_args
    set, keyed ``docker_args --env=NAME`` (``DOCKER_KEY``, as ``runner.plan.build`` names and the run takes
    them)."""
    if not isinstance(plan, dict):
        return plan, [], {}
    listed = plan.get("secret_env") or []
    malformed = not isinstance(listed, list) or not all(isinstance(name, str) for name in listed)
    if malformed:  # no runner writes it: replaced by the names of the plan's secrets (none: [])
        rule.notes.append(f"its plan's secret_env was {type(listed).__name__}, not a list of names: it names "
                          "the plan's secrets now")
    named = [] if malformed else list(listed)
    secrets = {n: v for n, v in variables.items() if rule.is_secret(str(n), v)}
    resources = _mapping(plan.get("resources"))
    args = resources.get("docker_args")
    args = args if isinstance(args, list) and all(isinstance(arg, str) for arg in args) else []
    docker = rule.of.docker_secrets(args) if args else {}
    if not secrets and not docker:  # the common case: nothing of the spec's is a secret (or *** already)
        return ({**plan, "secret_env": []}, [], {}) if malformed else (plan, named, {})
    found, names = dict(plan), set(named)
    for field in ("env", "host_env"):
        env = plan.get(field)
        if isinstance(env, dict):
            secret = rule.of.secret_names(secrets, env)
            names.update(secret)
            found[field] = rule.of.masked(env, secret)
    keys = [rule.of.DOCKER_KEY + name for name in docker]  # in build_plan's order, after the variables'
    real = {key: value for key, value in zip(keys, docker.values(), strict=True) if value != rule.of.MASK}
    if real:
        names.update(real)
        found["resources"] = {**resources, "docker_args": rule.of.masked_docker_args(args)}
    ordered = [*(n for n in variables if n in names), *(k for k in keys if k in names),
               *sorted(names - set(variables) - set(keys))]
    if malformed or ordered != named:
        found["secret_env"] = ordered
    return (plan, named, {}) if found == plan else (found, ordered, real)


def _masked_anywhere(rule: _Rule, record: dict[str, Any]) -> dict[str, Any] | None:
    """A record in a shape no runner wrote with every secret found in it masked: each one of an
    ``environment_variables`` mapping or of ``docker_args`` (``masked_spec``), and each of an ``env`` or
    ``host_env`` mapping (a plan's), at any depth. None: none was found."""
    new = _masked_envs(rule, rule.of.masked_spec(record))
    return None if new == record else new


def _masked_envs(rule: _Rule, data: Any) -> Any:
    if isinstance(data, list):
        return [_masked_envs(rule, item) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: {name: rule.of.MASK if rule.is_secret(str(name), value) else value
                  for name, value in given.items()}
            if key in ("env", "host_env") and isinstance(given, dict) else _masked_envs(rule, given)
            for key, given in data.items()}


def _keep(secrets_dir: Path, kept: dict[str, dict[str, Any]]) -> None:
    """Each job's values in its owner-only secrets file (``runner.workspace.job_secrets.kept_file``),
    never through a link."""
    with secrets_folder(secrets_dir) as folder:
        for name, values in kept.items():
            write_owner_only(folder, f"job-{name}.json", json.dumps(values).encode())

