"""The secrets a user wrote in ``environment_variables``: which they are (the one rule, ``is_secret``), and
their values kept out of everything recorded or shown, while the job still gets them.

    is_secret("WANDB_API_KEY", "abc")                       # True: the name says so
    is_secret("STORAGE", "AccountName=a;AccountKey=...")    # True: the value looks like one
    masked_spec(spec.to_yaml_dict())                        # environment_variables' secrets as ***
    with_secret_env(plan, values)                           # the plan the run hands to its backend

A variable is a secret by the one rule, ``runner.spec.env_secret_rule`` (``is_secret``: its name says so,
as ``WANDB_API_KEY``, ``HF_TOKEN``, ``GH_PAT``, or its value looks like one, as a connection string's key, a
SAS token, a URL with a password, a JWT, a GitHub token).

``runner.plan.build`` masks them in the plan (``RunPlan.secret_env`` names them; ``env``/``host_env``
show ``***``) with one warning, the job record keeps its spec masked (``masked_spec``), and the real
values wait in the workspace's owner-only secrets folder (``runner.workspace.job_secrets``) until the
job's run takes them (``runner.jobs.run``).

A secret that ``resources.docker_args`` set (``-e NAME=VALUE``, ``--env=NAME=VALUE``: the same rule) is
kept the same way, so the job runs as written: docker_args show ``NAME=***`` in the plan and the record,
``secret_env`` names it ``docker_args --env=NAME`` (``DOCKER_KEY``: its own key, holding '=', which no
variable's name can, so the same name in ``environment_variables`` keeps its own value, which docker_args
override in a container only; an earlier runner's ``docker_args -e NAME`` is still read), and the run puts
the value back in docker_args (``with_secret_env``), where the docker backend reads it as before. An
engine error that echoes a value the job was given shows ``***`` for each secret value
(``without_secret_values``). A pipeline's record keeps its steps' values by ``environment_variables``
only, so a step's is refused (``refuse_shown_mask``).

``***`` is what runner shows of a kept value: as a value under a secret's name it is refused
(``refuse_shown_mask``), under another name warned (``shown_mask_warnings``, in ``secret_warnings``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from runner.errors import JobError, SpecError
from runner.plan.types import RunPlan
from runner.spec.docker_env import env_pairs, with_env_values
from runner.spec.env_secret_rule import is_secret, name_is_secret
from runner.spec.env_secret_rule import value_is_secret as value_is_secret  # the rule's, shown here too
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import LoadedSpec
from runner.spec.secret_fields import MASK, masked_docker_args
from runner.url_secrets import without_secrets

SPEC_FIELD = "environment_variables"
DOCKER_FIELD = ("resources", "docker_args")
# + NAME: a docker_args secret's key in secret_env and the secrets file; its '=' no variable's name holds.
# An earlier runner's key (a job it queued) is read where no variable of the plan is so named.
DOCKER_KEY = "docker_args --env="
_OLD_DOCKER_KEY = "docker_args -e "


def secret_names(variables: Mapping[str, str], env: Mapping[str, str]) -> tuple[str, ...]:
    """The ``environment_variables`` that are secrets and reach the job as given (``env``: the job's
    variables; one the job's own identity replaced is not the user's any more), in the spec's order."""
    return tuple(name for name, value in variables.items()
                 if is_secret(name, value) and env.get(name) == value)


def masked(env: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    hidden = set(names)
    return {key: MASK if key in hidden else value for key, value in env.items()}


def secret_warnings(spec: CommandJobSpec, names: Sequence[str]) -> list[str]:
    """The warnings a job (a pipeline step) gets about its secrets, where they were written: the one for
    the secrets in its ``environment_variables`` (``names``: their names, never a value), then
    ``shown_mask_warnings``'; none for none."""
    return [*_kept_warning(spec, names), *shown_mask_warnings(spec)]


def _kept_warning(spec: CommandJobSpec, names: Sequence[str]) -> list[str]:
    if not names:
        return []
    return [f"{spec.where(SPEC_FIELD)}: {spec.field_name(SPEC_FIELD)} {', '.join(names)} look like secrets: "
            f"the job gets their values, but its record, `job show`, the UI and printed plans show {MASK} "
            "(the values wait in the workspace's owner-only secrets folder until the job starts). Storage "
            "credentials are better kept in a datastore (`runner datastore create`; a direct input or output "
            "gets them), other secrets in a file the job reads, outside its code folder"]


def refuse_shown_mask(spec: LoadedSpec, variables: Mapping[str, str], *, registered: str | None = None
                      ) -> None:
    """One ``SpecError`` when a variable whose name says it is a secret has exactly ``***`` as its value:
    what runner shows of a secret, not one (a job or a component saved as `job show` / `component show`
    print it); run as is, the job would get the literal ``***``. Located at the first such variable. The
    same for one its ``resources.docker_args`` set, and for a pipeline step's docker_args secret (its
    pipeline's record cannot keep one apart: ``refuse_step_docker_args_secrets``; ``registered``: the
    registered component whose docker_args the step runs with). Under another name ``***`` is a value
    like any (``shown_mask_warnings`` says it)."""
    _refuse_variables_mask(spec, variables)
    _refuse_docker_args_mask(spec)
    refuse_step_docker_args_secrets(spec, registered=registered)


def _shown_masks(spec: LoadedSpec) -> tuple[list[str], list[str]]:
    """The ``environment_variables`` and the docker_args variables (the value the container gets: the
    last) whose value is exactly ``***`` under a name that says no secret (a secret's name is refused)."""
    variables = getattr(spec, SPEC_FIELD, None) or {}
    return ([name for name, value in variables.items() if str(value) == MASK and not name_is_secret(name)],
            [name for name, value in dict(env_pairs(_docker_args(spec))).items()
             if value == MASK and not name_is_secret(name)])


def shown_mask_warnings(spec: LoadedSpec) -> list[str]:
    """One warning for the ``environment_variables`` and one for the ``resources.docker_args`` whose value
    is exactly ``***`` under a name that says no secret, at the first one's line, naming them: what runner
    shows of a value it keeps out for what it holds (``value_is_secret``), so one created again from what
    runner showed gets the literal ``***``. Not refused: such a name may hold it on purpose."""
    variables, docker = _shown_masks(spec)
    found = []
    why = ("that is how runner shows a value it keeps out of what it records and prints (`job show`, "
           "`component show`, the UI) when the value looks like a secret (a connection string's key, a SAS "
           "token, a URL with a password, a private key), so a job created again from what runner showed")
    again = f"(runner keeps it out of the record again); a {MASK} meant so can stay"
    if variables:
        one = len(variables) == 1
        found.append(f"{spec.where(SPEC_FIELD, variables[0])}: {spec.field_name(SPEC_FIELD)} "
                     f"{', '.join(variables)} {'is' if one else 'are'} {MASK}: {why} gets a literal {MASK} "
                     f"there. If {'it' if one else 'they'} should hold the real value, write it in place of "
                     f"{MASK} {again}")
    if docker:
        found.append(f"{spec.where(*DOCKER_FIELD)}: {spec.field_name(*DOCKER_FIELD)} set "
                     f"{', '.join(f'{name}={MASK}' for name in docker)}: {why} gives the container a literal "
                     f"{MASK}. For the real value, write it in place of {MASK} {again}")
    return found


def _refuse_variables_mask(spec: LoadedSpec, variables: Mapping[str, str]) -> None:
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


def _docker_args(spec: LoadedSpec) -> list[str]:
    resources = getattr(spec, "resources", None)  # a component's may be None
    return list(resources.docker_args) if resources is not None else []


def docker_secrets(args: Sequence[str]) -> dict[str, str]:
    """The variables docker_args set a secret in (``is_secret``), in the order first written, each with the
    value the container gets (its last: a later ``NAME=***`` too, what the run puts back everywhere)."""
    pairs = env_pairs(args)
    last = dict(pairs)
    secret = dict.fromkeys(name for name, value in pairs if is_secret(name, value))
    return {name: last[name] for name in secret}


def docker_secret_warnings(spec: CommandJobSpec, names: Sequence[str]) -> list[str]:
    """The one warning a job whose ``resources.docker_args`` set secrets gets, at that line: their names,
    never a value; none for none."""
    if not names:
        return []
    field = spec.field_name(*DOCKER_FIELD)
    return [f"{spec.where(*DOCKER_FIELD)}: {field} set {', '.join(names)}, which "
            f"{'looks like a secret' if len(names) == 1 else 'look like secrets'}: the container gets "
            f"{'its value' if len(names) == 1 else 'their values'} as written, but the job's record, `job "
            f"show`, the UI and printed plans show {names[0]}={MASK} (the values wait in the workspace's "
            "owner-only secrets folder until the job starts). Better kept in a datastore or a file the job "
            "reads, outside its code folder"]


def _refuse_docker_args_mask(spec: LoadedSpec) -> None:
    names = [name for name, value in env_pairs(_docker_args(spec)) if value == MASK and name_is_secret(name)]
    if not names:
        return
    field, where = spec.field_location(*DOCKER_FIELD)
    raise SpecError(
        f"docker_args set {names[0]}={MASK}: that is how runner shows a secret it keeps out of what it "
        f"records and prints (`job show`, the UI), not a value; run as is, the container would get a literal "
        f"{MASK}", field=field, where=where,
        hint=f"write the real value in place of {MASK} (or leave it out of docker_args and give it in "
             f"environment_variables, e.g. from your shell: --set environment_variables.{names[0]}="
             f"\"${names[0]}\")",
        python_hint=f"give the real value in place of '{MASK}', e.g. docker_args=f\"-e {names[0]}="
                    f"{{os.environ['{names[0]}']}}\"")


def refuse_step_docker_args_secrets(spec: LoadedSpec, *, registered: str | None = None) -> None:
    """One ``SpecError`` when a pipeline step's (``parent_job_name``) ``resources.docker_args`` set a
    secret: a pipeline keeps its steps' secret values by their ``environment_variables`` only, and its
    record shows the step's docker_args masked, so the step would get ``***``. Names them, never a value;
    says what to change where the docker_args were written: the step's, its component's (inline, a file:
    their lines), or ``registered``'s (the registered component the step runs, ``azureml:<name>:<version>``:
    at the step's ``component:``, as the pipeline wrote no docker_args)."""
    if not getattr(spec, "parent_job_name", None):
        return
    names = list(docker_secrets(_docker_args(spec)))
    if not names:
        return
    listed, first = ", ".join(names), names[0]
    looks = "looks like a secret" if len(names) == 1 else "look like secrets"
    step = getattr(spec.doc, "step", None) or "<step>"
    target = f"jobs.{step}.{SPEC_FIELD}"  # the step's own: a component's may be replaced by the step's
    why = ("a pipeline keeps its steps' secrets out of its record only when they are given in "
           "environment_variables, not in docker_args (a command job's are kept out too)")
    python_give = f"<step>.{SPEC_FIELD} = {{'{first}': os.environ['{first}']}}"
    if registered:
        field, where = spec.field_location("component")
        name = registered.removeprefix("azureml:").rsplit(":", 1)[0]
        new = f"register a new version of component {name} without {listed} in its docker_args"
        raise SpecError(
            f"the docker_args of registered component {registered} set {listed}, which {looks}: {why}",
            field=field, where=where,
            hint=f"{new} (`runner component create --file <its YAML>`), run the step with it (azureml:{name}"
                 f"@latest runs the newest), and give {listed} in the step's {SPEC_FIELD} instead, e.g. from "
                 f"your shell: --set {target}.{first}=\"${first}\" (the step gets the same value; its record "
                 f"shows {MASK})",
            python_hint=f"{new} (ml_client.components.create_or_update), call that version in the pipeline, "
                        f"and give {listed} at the step instead: {python_give}")
    field, where = spec.field_location(*DOCKER_FIELD)
    own = field == f"jobs.{step}.{'.'.join(DOCKER_FIELD)}"
    inline = field.startswith(f"jobs.{step}.component.")
    source = ("the step's docker_args" if own else f"its inline component's docker_args ({field})" if inline
              else f"its component file's docker_args ({where})")
    raise SpecError(
        f"docker_args set {listed}, which {looks}: {why}", field=field, where=where,
        hint=f"move {listed} from {source} to the step's {SPEC_FIELD} ({target}): the step gets the same "
             f"value, its record and what runner prints show {MASK}",
        python_hint=f"move {listed} from {source} to the step's {SPEC_FIELD}: {python_give}")


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


def spec_secret_values(spec: CommandJobSpec, names: Iterable[str]) -> dict[str, str]:
    """A job's kept values (its plan's ``secret_env``): its ``environment_variables``' and, keyed
    ``docker_args --env=NAME``, its docker_args' (what the workspace's secrets folder keeps for its run)."""
    docker = docker_secrets(spec.resources.docker_args)
    return {name: docker[name.removeprefix(DOCKER_KEY)] if name.startswith(DOCKER_KEY)
            else str(spec.environment_variables[name]) for name in names}


def masked_spec(data: Any) -> Any:
    """A spec as plain data (``to_yaml_dict``: a job's, a pipeline's with its steps and inline components)
    with each secret in an ``environment_variables`` mapping and each one a ``docker_args`` sets, at any
    depth, as ``***``, and its ``compute`` as messages show it (``masked_compute``) (a copy)."""
    return masked_compute(_masked_variables(data))


def masked_compute(data: Any) -> Any:
    """A spec (plain data) with its ``compute``, a pipeline's ``settings.default_compute`` and its steps'
    ``compute`` ``without_secrets``: the record keeps them as written, so never a secret in them (a
    compute's name, letters, digits, '-' and '_', is unchanged)."""
    if not isinstance(data, dict):
        return data
    found = dict(data)
    if isinstance(found.get("compute"), str):
        found["compute"] = without_secrets(found["compute"])
    settings = found.get("settings")
    if isinstance(settings, dict) and isinstance(settings.get("default_compute"), str):
        found["settings"] = {**settings, "default_compute": without_secrets(settings["default_compute"])}
    if isinstance(found.get("jobs"), dict):
        found["jobs"] = {step: masked_compute(job) for step, job in found["jobs"].items()}
    return found


def _masked_variables(data: Any) -> Any:
    if isinstance(data, list):
        return [_masked_variables(item) for item in data]
    if not isinstance(data, dict):
        return data
    found: dict[Any, Any] = {}
    for key, value in data.items():
        if key == SPEC_FIELD and isinstance(value, dict):
            found[key] = {name: MASK if is_secret(str(name), given) else given
                          for name, given in value.items()}
        elif key == DOCKER_FIELD[1] and isinstance(value, str):  # a pipeline's resources, as written
            found[key] = masked_docker_args([value])[0]
        elif key == DOCKER_FIELD[1] and isinstance(value, list) and all(isinstance(v, str) for v in value):
            found[key] = masked_docker_args(value)
        else:
            found[key] = _masked_variables(value)
    return found


def with_spec_values(data: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A (step's) spec as plain data with its masked ``environment_variables`` given their real values."""
    if not values:
        return data
    return {**data, SPEC_FIELD: {**(data.get(SPEC_FIELD) or {}), **values}}


def with_secret_env(plan: RunPlan, values: Mapping[str, str]) -> RunPlan:
    """The plan the run hands to its backend: each masked variable with its real value (in its docker_args
    too). One ``JobError`` naming the variables whose values are missing (the secrets file was removed)."""
    if not plan.secret_env:
        return plan
    missing = [name for name in plan.secret_env if name not in values]
    if missing:
        named = " and ".join(_named(missing, plan))
        raise JobError(f"job {plan.job_name}: the values of its {named} (kept out of its record as secrets) "
                       "are no longer in the workspace's secrets folder",
                       hint="create the job again (a job's secret values are kept until it starts)")
    real = {name: str(values[name]) for name in plan.secret_env}
    docker = {name: real[key] for key in real if (name := _docker_name(key, plan)) is not None}
    args = with_env_values(plan.resources.docker_args,
                           lambda name, value: docker.get(name) if value == MASK else None)
    return replace(plan, env={**plan.env, **{k: v for k, v in real.items() if k in plan.env}},
                   host_env={**plan.host_env, **{k: v for k, v in real.items() if k in plan.host_env}},
                   resources=replace(plan.resources, docker_args=tuple(args)))


def _docker_name(key: str, plan: RunPlan) -> str | None:
    """The docker_args variable a ``secret_env`` key names (``DOCKER_KEY``, or an earlier runner's key
    where no variable of the plan is so named), None for an ``environment_variables`` one."""
    if key.startswith(DOCKER_KEY):
        return key.removeprefix(DOCKER_KEY)
    if key.startswith(_OLD_DOCKER_KEY) and key not in plan.env and key not in plan.host_env:
        return key.removeprefix(_OLD_DOCKER_KEY)
    return None


def _named(keys: Sequence[str], plan: RunPlan) -> list[str]:
    variables = [key for key in keys if _docker_name(key, plan) is None]
    docker = [name for key in keys if (name := _docker_name(key, plan)) is not None]
    return ([f"{SPEC_FIELD} {', '.join(variables)}"] if variables else []) + (
        [f"docker_args' {', '.join(docker)}"] if docker else [])


def secret_texts(plan: RunPlan) -> list[str]:
    """The real values of a plan's secrets, as the run handed it to its backend (``with_secret_env``):
    its ``environment_variables``' and its docker_args', longest first."""
    docker = dict(env_pairs(plan.resources.docker_args))
    found = set()
    for key in plan.secret_env:
        name = _docker_name(key, plan)
        found.add(docker.get(name) if name is not None else plan.env.get(key) or plan.host_env.get(key))
    return sorted((text for text in found if text and text != MASK), key=len, reverse=True)


def without_secret_values(text: str, plan: RunPlan) -> str:
    """``text`` (an engine's error, which may echo a value the job was given) with each of the plan's
    secret values as ``***``: one of 8 characters or more wherever it is, a shorter one where it stands
    alone (not inside a longer word or number, so a message is not cut up at every ``1``)."""
    for value in secret_texts(plan):
        if len(value) >= 8:
            text = text.replace(value, MASK)
        else:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", MASK, text)
    return text
