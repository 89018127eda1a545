"""The secrets a user wrote in ``environment_variables``: which they are (the one rule, ``is_secret``), and
their values kept out of everything recorded or shown, while the job still gets them.

    is_secret("WANDB_API_KEY", "abc")                       # True: the name says so
    is_secret("STORAGE", "AccountName=a;AccountKey=...")    # True: the value looks like one
    masked_spec(spec.to_yaml_dict())                        # environment_variables' secrets as ***
    with_secret_env(plan, values)                           # the plan the run hands to its backend

A variable is a secret when its value is not empty and

- its name says so (``name_is_secret``; read as words, split at ``_``, ``-``, ``.`` and camelCase): a word
  holding ``SECRET`` or ``PASSWORD``, or the word ``TOKEN``, ``SAS``, ``PASSWD``, ``PASSPHRASE``,
  ``CREDENTIAL(S)``, ``APIKEY``, ``CONNSTR``; ``KEY`` as its last word (``*_KEY``: ``WANDB_API_KEY``,
  ``SSH_PRIVATE_KEY``, not ``AWS_ACCESS_KEY_ID``); ``CONNECTION`` then ``STRING``
  (``*CONNECTION_STRING*``). Whole words, so ``TOKENIZERS_PARALLELISM``, ``MAX_TOKENS``, ``KANSAS`` and
  ``PWD`` (the shell's working directory) are not;
- or its value looks like one (``value_is_secret``): a connection string's ``AccountKey=``,
  ``SharedAccessSignature=``, ``SharedAccessKey=``, ``Password=`` or ``Pwd=``; a SAS token or a
  pre-signed URL (``sig=``, ``X-Amz-Signature=`` in a query); a URL with a password
  (``scheme://user:password@host``, ``runner.url_secrets``); a PEM private key.

(Not ``runner.workspace.datastore_secrets.looks_secret``: its substrings, right for storage options,
would hide ``TOKENIZERS_PARALLELISM``, ``SESSION_NAME`` or ``AUTHOR``, and say nothing of a value.)

``runner.plan.build`` masks them in the plan (``RunPlan.secret_env`` names them; ``env``/``host_env``
show ``***``) with one warning, the job record keeps its spec masked (``masked_spec``), and the real
values wait in the workspace's owner-only secrets folder (``runner.workspace.job_secrets``) until the
job's run takes them (``runner.jobs.run``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from runner.errors import JobError, SpecError
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import LoadedSpec
from runner.url_secrets import SECRET_KEYS, SIGNATURE_KEYS, has_password

MASK = "***"
SPEC_FIELD = "environment_variables"

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")  # CONNECTION_STRING, clientSecret, APIKey
_NAMED = frozenset({"TOKEN", "SAS", "PASSWD", "PASSPHRASE", "CREDENTIAL", "CREDENTIALS", "APIKEY", "CONNSTR"})
_VALUE = re.compile(  # the keys are runner.url_secrets' (the one list its message mask uses)
    rf"(?i)(?:^|[;\s])(?:{SECRET_KEYS})\s*=\s*[^;\s]"  # a connection string's key=
    rf"|(?:^|[?&])(?:{SIGNATURE_KEYS})=[^&\s]"  # a SAS token, a pre-signed URL
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")  # PEM


def _words(name: str) -> list[str]:
    return [word.upper() for word in _WORDS.findall(name)]


def name_is_secret(name: str) -> bool:
    """Whether the variable's name says it holds a secret (see the module docstring)."""
    words = _words(name)
    if not words:
        return False
    joined = "_".join(words)
    return (words[-1] == "KEY" or "CONNECTION_STRING" in joined
            or any(word in _NAMED or "SECRET" in word or "PASSWORD" in word for word in words))


def value_is_secret(value: str) -> bool:
    """Whether the value looks like a secret: a connection string's key, a SAS token or a pre-signed
    URL's signature, a URL with a password, a PEM private key."""
    return bool(_VALUE.search(value)) or has_password(value)


def is_secret(name: str, value: object) -> bool:
    """The one rule: a non-empty value whose name or content says it is a secret."""
    text = "" if value is None else str(value)
    return bool(text) and (name_is_secret(name) or value_is_secret(text))


def secret_names(variables: Mapping[str, str], env: Mapping[str, str]) -> tuple[str, ...]:
    """The ``environment_variables`` that are secrets and reach the job as given (``env``: the job's
    variables; one the job's own identity replaced is not the user's any more), in the spec's order."""
    return tuple(name for name, value in variables.items()
                 if is_secret(name, value) and env.get(name) == value)


def masked(env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    hidden = set(names)
    return {key: MASK if key in hidden else value for key, value in env.items()}


def secret_warnings(spec: CommandJobSpec, names: Sequence[str]) -> list[str]:
    """The one warning a job (a pipeline step) with secrets in its ``environment_variables`` gets, where
    they were written: their names, never a value; none for none."""
    if not names:
        return []
    return [f"{spec.where(SPEC_FIELD)}: {spec.field_name(SPEC_FIELD)} {', '.join(names)} look like secrets: "
            f"the job gets their values, but its record, `job show`, the UI and printed plans show {MASK} "
            "(the values wait in the workspace's owner-only secrets folder until the job starts). Storage "
            "credentials are better kept in a datastore (`runner datastore create`; a direct input or output "
            "gets them), other secrets in a file the job reads, outside its code folder"]


def refuse_shown_mask(spec: LoadedSpec, variables: Mapping[str, str]) -> None:
    """One ``SpecError`` when a variable whose name says it is a secret has exactly ``***`` as its value:
    what runner shows of a secret, not one (a job or a component saved as `job show` / `component show`
    print it); run as is, the job would get the literal ``***``. Located at the first such variable."""
    names = [name for name, value in variables.items() if value == MASK and name_is_secret(name)]
    if not names:
        return
    if len(names) == 1:
        field, where = spec.field_location(SPEC_FIELD, names[0])
        what = "the value is"
    else:
        field, where = spec.field_name(SPEC_FIELD), spec.where(SPEC_FIELD, names[0])
        what = f"{', '.join(names)} are"
    raise SpecError(
        f"{what} {MASK}: that is how runner shows a secret it keeps out of what it records and prints "
        f"(`job show`, `component show`, the UI), not a value; run as is, the job would get a literal {MASK}",
        field=field, where=where,
        hint=f"write the real value in place of {MASK}, e.g. from your shell: --set "
             f"{spec.field_name(SPEC_FIELD, names[0])}=\"${names[0]}\" (or keep the secret in a file the "
             "job reads, outside its code folder)",
        python_hint=f"give the real value in place of '{MASK}', e.g. environment_variables={{'{names[0]}': "
                    f"os.environ['{names[0]}']}} (or keep the secret in a file the job reads, outside its "
                    "code folder)")


def component_secret_warning(spec: LoadedSpec, names: Sequence[str]) -> str:
    """The one warning a component registered with secrets in its ``environment_variables`` gets: their
    names (never a value), and that the component registry keeps them in plain text."""
    return (f"{spec.where(SPEC_FIELD)}: {spec.field_name(SPEC_FIELD)} {', '.join(names)} look like secrets: "
            "the workspace's component registry keeps them in plain text (in runner.db: a step that runs the "
            f"component gets them), while `component show` and `component list` show {MASK}. Better: leave "
            "them out of the component and give them in the pipeline step's environment_variables (kept out "
            "of its records, as a job's are), or keep the secret in a datastore or a file the job reads")


def secret_values(variables: Mapping[str, Any], names: Iterable[str] | None = None) -> dict[str, str]:
    """The secrets' real values: ``names``' (a plan's ``secret_env``), or every secret in ``variables``."""
    if names is not None:
        return {name: str(variables[name]) for name in names}
    return {name: str(value) for name, value in variables.items() if is_secret(name, value)}


def masked_spec(data: Any) -> Any:
    """A spec as plain data (``to_yaml_dict``: a job's, a pipeline's with its steps and inline components)
    with each secret in an ``environment_variables`` mapping, at any depth, as ``***`` (a copy)."""
    if isinstance(data, list):
        return [masked_spec(item) for item in data]
    if not isinstance(data, dict):
        return data
    found = {}
    for key, value in data.items():
        if key == SPEC_FIELD and isinstance(value, dict):
            found[key] = {name: MASK if is_secret(str(name), given) else given
                          for name, given in value.items()}
        else:
            found[key] = masked_spec(value)
    return found


def with_spec_values(data: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A (step's) spec as plain data with its masked ``environment_variables`` given their real values."""
    if not values:
        return data
    return {**data, SPEC_FIELD: {**(data.get(SPEC_FIELD) or {}), **values}}


def with_secret_env(plan: RunPlan, values: Mapping[str, str]) -> RunPlan:
    """The plan the run hands to its backend: each masked variable with its real value. One ``JobError``
    naming the variables whose values are missing (the secrets file was removed)."""
    if not plan.secret_env:
        return plan
    missing = [name for name in plan.secret_env if name not in values]
    if missing:
        raise JobError(f"job {plan.job_name}: the values of its environment_variables {', '.join(missing)} "
                       "(kept out of its record as secrets) are no longer in the workspace's secrets folder",
                       hint="create the job again (a job's secret values are kept until it starts)")
    real = {name: values[name] for name in plan.secret_env}
    return replace(plan, env={**plan.env, **{k: v for k, v in real.items() if k in plan.env}},
                   host_env={**plan.host_env, **{k: v for k, v in real.items() if k in plan.host_env}})
