"""Where a job runs: a Ray compute registered in the workspace, or this machine.

    choice = choose_compute(ws, spec)   # choice.compute: a RayCompute, or None (runs here); choice.note
    unregistered_note(name, python=True)  # what a job naming a compute that is not registered is told
    default_datastore(choice.compute)   # where its outputs without a path go
    run_backend(choice.compute, backend)  # the backend it is checked and run on (or the run's refusal)

The last two are the one rule ``job validate``, ``job create --dry-run`` (a command job, a pipeline's
steps) and the run itself (``runner.jobs.ray_submit``) follow, so validate passes what the run takes and
refuses what it refuses. Azure's ``serverless`` and ``local`` are this machine (``local`` without a note:
it means this machine in Azure too).

Light on purpose (no HTTP client, no zip): every job with a ``compute:`` asks it, and a job that runs
here never imports the Ray modules (``runner.jobs.ray_submit``, ``runner.jobs.ray_follow``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.errors import SpecError
from runner.spec.job import CommandJobSpec
from runner.spec.load import reword_ignored, uses_local_process
from runner.url_secrets import without_secrets
from runner.workspace.db import DEFAULT_DATASTORE, Workspace

if TYPE_CHECKING:
    from runner.workspace.computes import RayCompute


# Azure's keyword for a job that needs no cluster (``compute: azureml:serverless``): here, this machine
SERVERLESS = "serverless"
SERVERLESS_NOTE = ("compute 'serverless' is Azure's serverless compute, which is this machine here: the job "
                   "runs on it")
# Azure's target for a job run on the machine that submits it: what runner does with every job, no note
LOCAL = "local"


@dataclass(frozen=True)
class ComputeChoice:
    compute: RayCompute | None  # None: the job runs on this machine
    note: str | None  # a named compute is not registered (only the first time the spec is looked at)


def choose_compute(ws: Workspace, spec: CommandJobSpec, *, python: bool = False) -> ComputeChoice:
    """Where ``spec`` runs: a registered Ray compute, or here (``serverless`` and ``local``, unless a Ray
    compute is registered under that name, are here too; ``local`` without a note). Rewords the spec's
    "compute is ignored" warning to say which (idempotent: the first wording stays), in the Python API's
    words with ``python`` (the call that registers a compute, not the command)."""
    if not spec.compute or uses_local_process(spec):
        return ComputeChoice(None, None)
    from runner.workspace.computes import ComputeStore, compute_name  # start-up cost: only with a compute

    if not compute_name(spec.compute):
        return ComputeChoice(None, None)
    name = compute_name(spec.compute)
    compute = ComputeStore(ws).find(name)
    if compute is None and name == SERVERLESS:
        note = SERVERLESS_NOTE
        return ComputeChoice(None, note if reword_ignored(spec, "compute", note) else None)
    if compute is None and name == LOCAL:
        reword_ignored(spec, "compute", None)
        return ComputeChoice(None, None)
    if compute is None:
        note = unregistered_note(name, python=python)
        first = reword_ignored(spec, "compute", note)
        return ComputeChoice(None, note if first else None)
    reword_ignored(spec, "compute", None)
    if set(spec.resources.properties or {}) <= {"ray"}:
        reword_ignored(spec, "resources.properties", None)
    return ComputeChoice(compute, None)


def unregistered_note(name: str, *, python: bool, who: str = "the job") -> str:
    """What a job naming a compute that is not registered is told (also ``ml_client.compute.
    begin_create_or_update`` of an Azure cluster, with ``who`` a job naming it): ``who`` runs on this
    machine, and the call (``python``) or command that registers a Ray cluster under that name."""
    name = without_secrets(name)  # as given, it is only looked up: a secret in it is never shown
    register = (f"`ml_client.compute.create_or_update({{'name': '{name}', 'type': 'ray', 'address': "
                "'http://<head>:8265'})`" if python else
                f"`runner compute create --name {name} --type ray --address http://<head>:8265`")
    return (f"compute '{name}' is not registered in this workspace, so {who} runs on this machine "
            f"({register} registers a Ray cluster)")


def not_created_note(kind: str, name: str, ray_address: str | None, *, python: bool) -> str:
    """The one note for an Azure compute (``kind``: ``AmlCompute``...) given to ``ml_client.compute`` or
    ``runner compute create --file`` (``python``: in which words): nothing is created, and where a job naming
    it runs: the Ray compute registered under ``name`` (at ``ray_address``), else this machine."""
    name = without_secrets(name)
    what = f"{kind} '{name}' is an Azure compute, which is not created here"
    if ray_address is not None:
        return (f"{what}: the Ray compute '{name}' registered in this workspace stays, and a job naming it "
                f"runs there ({ray_address})")
    shown, who = ((f"ml_client.compute.get('{name}')", f"a job with compute='{name}'") if python else
                  (f"`runner compute show --name {name}`", f"a job with compute: azureml:{name}"))
    return (f"{what} (nothing is recorded: {shown} still finds none); "
            + unregistered_note(name, python=python, who=who))


def default_datastore(compute: RayCompute | None) -> str:
    """Where a job's outputs without a path go: a Ray compute's own datastore (its nodes write there), else
    the workspace's default."""
    return compute.datastore if compute is not None else DEFAULT_DATASTORE


def run_backend(compute: RayCompute | None, backend: str | None, *, upload_on_failure: bool = True
                ) -> str | None:
    """The backend a job is checked and run on: ``backend`` as given, or, on a Ray compute, docker (its
    nodes run each job in a container), where ``--backend`` other than docker and
    ``--no-upload-on-failure`` are one ``SpecError``."""
    if compute is None:
        return backend
    if backend not in (None, "docker"):
        why = (f"runs jobs on this machine; Ray compute '{compute.name}' runs each job in a container on its "
               "nodes")
        raise SpecError(f"--backend {backend} {why}", field="--backend",
                        hint="omit --backend, or remove compute: to run the job here",
                        python_message=f"backend='{backend}' {why}", python_field="backend",
                        python_hint="leave backend unset, or remove the job's compute to run it here")
    if not upload_on_failure:
        why = ("keeps outputs staged on the machine that ran the job, here a node of Ray compute "
               f"'{compute.name}'")
        raise SpecError(f"--no-upload-on-failure {why}", field="--no-upload-on-failure",
                        hint="omit it (a failed job's outputs are uploaded), or run the job here",
                        python_message=f"upload_on_failure=False {why}", python_field="upload_on_failure",
                        python_hint="leave it True (a failed job's outputs are uploaded), or run the job "
                                    "here")
    return "docker"
