"""A step's ``direct`` bindings, checked before anything runs, for a step that reads an upstream step's
output too (a first step gets them from ``plan_job`` and ``check_submission``, as ``job create`` does).

Where an upstream step writes its output is known before it runs (``plan_pipeline``'s locations), and a
step's input bound to it reads it from there (``azureml://jobs/<upstream>/outputs/<o>`` resolves to that
location when the step starts). So a ``direct`` input bound to it gets, from that location, the checks
its start makes (``runner.jobs.submit``), with the same error at the same line:

- a datastore the step only reads gives credentials narrowed to reading, or is refused
  (``direct_env(write=False)``: one whose credentials cannot be, this machine's files);
- a URL of this machine's file is refused for an input (it could be written through), and for an
  output when the job runs in a container, which cannot open it (``runner.plan.direct_host``).

    refuse_direct_bindings(spec, inputs, outputs, datastores, backend=None)  # resolved: name -> path
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from runner.backends import get_backend
from runner.errors import ResolveError, SpecError, StorageError
from runner.jobs.submit import backend_for
from runner.modes import Direction, Mode
from runner.plan.build import direct_binding, expected_kind
from runner.plan.direct_host import refuse_direct_host_url
from runner.plan.types import Binding
from runner.spec.job import CommandJobSpec
from runner.spec.job_io import AssetInput
from runner.workspace.datastores import DatastoreStore
from runner.workspace.resolved import ResolvedPath


@contextlib.contextmanager
def _at_path(spec: CommandJobSpec, group: str, name: str) -> Iterator[None]:
    """An error about a binding points at its ``path:`` line (in a step: the pipeline file's)."""
    try:
        yield
    except (ResolveError, SpecError, StorageError) as err:
        raise err.located(*spec.field_location(group, name, "path")) from err


def _bindings(spec: CommandJobSpec, inputs: Mapping[str, ResolvedPath], outputs: Mapping[str, ResolvedPath]
              ) -> list[tuple[Binding, ResolvedPath]]:
    """The step's ``direct`` bindings among those resolved, as its plan will hold them."""
    found = []
    for name, resolved in inputs.items():
        value = spec.inputs[name]
        if isinstance(value, AssetInput) and value.mode is Mode.DIRECT:
            kind = expected_kind(value.type, Direction.INPUT, resolved)
            found.append((direct_binding(name, Direction.INPUT, value.type, resolved, kind=kind), resolved))
    for name, resolved in outputs.items():
        output = spec.outputs[name]
        if output.mode is Mode.DIRECT:
            kind = expected_kind(output.type, Direction.OUTPUT, resolved, output.path)
            found.append((direct_binding(name, Direction.OUTPUT, output.type, resolved, kind=kind), resolved))
    return found


def refuse_direct_bindings(spec: CommandJobSpec, inputs: Mapping[str, ResolvedPath],
                           outputs: Mapping[str, ResolvedPath], datastores: DatastoreStore, *,
                           backend: str | None) -> None:
    """Refuse what the step's start would refuse of its ``direct`` bindings (``inputs``/``outputs``: the
    resolved paths of its inputs and outputs, by name; ``backend``: the one ``job create`` was given)."""
    bindings = _bindings(spec, inputs, outputs)
    if not bindings:
        return
    writes = {found.datastore for b, found in bindings if b.direction is Direction.OUTPUT and found.datastore}
    for binding, found in bindings:  # as plan_job: a direct input only read gets read-only credentials
        if binding.direction is Direction.INPUT and found.datastore and found.datastore not in writes:
            with _at_path(spec, "inputs", binding.name):
                datastores.get(found.datastore).direct_env(write=False)
    in_container = get_backend(backend_for(spec, backend)).capabilities.in_container
    for binding, _ in bindings:  # as check_submission
        with _at_path(spec, *binding.key.split("/", 1)):
            refuse_direct_host_url(binding, in_container=in_container)
