"""Where a pipeline step's ``resources.docker_args`` came from, for the refusal of a secret they set
(``runner.plan.env_secrets.refuse_step_docker_args_secrets``): a registered component's, which the
pipeline file does not hold, is said at the step's ``component:`` with what to do about the component.

    refuse_shown_mask(spec, spec.environment_variables, registered=registered_docker_args(node))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.workspace.components import parse_component_ref

if TYPE_CHECKING:  # annotations only: graph imports this package's modules
    from runner.pipelines.graph import StepNode


def registered_docker_args(node: StepNode) -> str | None:
    """The registered component (``azureml:<name>:<version>``, the version a ``@latest`` named) whose
    docker_args the step runs with: it names one (``azureml:...``, in YAML or in Python) and sets no
    docker_args of its own (a step's replace its component's). None otherwise."""
    ref = node.entry.component
    if not isinstance(ref, str) or "docker_args" in (node.entry.resources or {}):
        return None
    return node.component_label if parse_component_ref(ref) is not None else None
