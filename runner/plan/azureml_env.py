"""Azure ML's ``AZUREML_*`` variables a job's command sees: the ones that mean something on this machine.

Azure ML sets these in every command job, and ported scripts read them (``os.environ["AZUREML_RUN_ID"]``):

- ``AZUREML_RUN_ID``: the job's name (a pipeline step's: its own job, ``<pipeline>-<step>``);
- ``AZUREML_ROOT_RUN_ID``: the pipeline's name for a step; a job on its own is its own root;
- ``AZUREML_EXPERIMENT_NAME`` and ``AZUREML_ARM_PROJECT_NAME`` (the name the v1 SDK reads): the experiment
  the job is recorded under (its ``experiment_name``, else azure.ai.ml's default, the submitting folder's
  name).

Not set: what names an Azure workspace or its services (``AZUREML_ARM_SUBSCRIPTION``,
``AZUREML_ARM_RESOURCEGROUP``, ``AZUREML_ARM_WORKSPACE_NAME``, ``AZUREML_SERVICE_ENDPOINT``,
``AZUREML_EXPERIMENT_ID``: a GUID of Azure's), a token (``AZUREML_RUN_TOKEN``: a secret), and the
common runtime's own (``AZUREML_CR_*``: paths on Azure's nodes). Setting the workspace ones would send
a ported script's ``MLClient``/``Run.get_context()`` to an Azure workspace that is not there; without
them ``Run.get_context()`` is an offline run, as outside Azure. No value is a path, so the container
and a host process get the same; a host process inherits none from the runner's environment
(``runner.backends.inherited_env``).

They are the job's identity: a value given for one in ``environment_variables`` is not used (a stale
copy would point a script at another job's run), and the plan warns, naming where it was written. Any
other ``AZUREML_*`` a job sets there (``AZUREML_ARTIFACTS_DEFAULT_TIMEOUT``...) is passed as written.

An empty value for one of them there (``AZUREML_RUN_ID: ""``) keeps that variable out of the job, without
a warning (``withheld``): public scripts test ``"AZUREML_RUN_ID" in os.environ`` to take an "on Azure"
path (``azureml_user``, ``AZUREML_DATAREFERENCE_*``) that fails off Azure.
"""

from __future__ import annotations

from runner.spec.job import CommandJobSpec

RUN_ID = "AZUREML_RUN_ID"
ROOT_RUN_ID = "AZUREML_ROOT_RUN_ID"
EXPERIMENT_NAME = "AZUREML_EXPERIMENT_NAME"
PROJECT_NAME = "AZUREML_ARM_PROJECT_NAME"


IDENTITY = (RUN_ID, ROOT_RUN_ID, EXPERIMENT_NAME, PROJECT_NAME)


def withheld(spec: CommandJobSpec) -> frozenset[str]:
    """The job's own variables its ``environment_variables`` keep out of it: those given an empty value."""
    return frozenset(key for key in IDENTITY if spec.environment_variables.get(key) == "")


def azureml_env(spec: CommandJobSpec, job_name: str, experiment_name: str | None) -> dict[str, str]:
    """The ``AZUREML_*`` variables of job ``job_name`` (``experiment_name``: the one it is recorded under,
    else the spec's; none: no experiment variables), but those ``withheld``."""
    env = {RUN_ID: job_name, ROOT_RUN_ID: spec.parent_job_name or job_name}
    experiment = experiment_name or spec.experiment_name
    if experiment:
        env.update({EXPERIMENT_NAME: experiment, PROJECT_NAME: experiment})
    kept_out = withheld(spec)
    return {key: value for key, value in env.items() if key not in kept_out}


def replaced_warnings(spec: CommandJobSpec, env: dict[str, str]) -> list[str]:
    """One warning per ``environment_variables`` entry that ``env`` (``azureml_env``) replaces with
    another value: where it was written, and the value the job gets (not the one given)."""
    warnings = []
    for key, value in env.items():
        given = spec.environment_variables.get(key)
        if given is not None and given != value:
            field = spec.field_name("environment_variables", key)
            warnings.append(f"{spec.where('environment_variables', key)}: {field} is the job's own, set by "
                            f"runner as Azure ML sets it: the job gets {key}={value}, not the value given "
                            "here (remove it; an empty value keeps it out of the job)")
    return warnings
