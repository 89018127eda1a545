"""``azure.ai.ml.sweep``'s names, so that a ported sweep meets one clear error: sweep jobs do not run here.

    from runner.sweep import Choice     # SpecError: sweep jobs are not supported here ...
    job.sweep(...)                      # the same error (``runner.entities.Command.sweep``)

Each name ``azure.ai.ml.sweep`` exports (``Choice``, ``Uniform``, ``BanditPolicy``, ``SweepJob``...) raises
that one ``SpecError`` (``runner.exceptions.ValidationException``) when it is imported or read; any other
name is an ordinary ``AttributeError``.
"""

from __future__ import annotations

from runner.errors import SpecError

# azure.ai.ml.sweep.__all__
AZURE_NAMES = frozenset({
    "SweepJob", "SweepJobLimits", "Choice", "Normal", "LogNormal", "QNormal", "QLogNormal", "Randint",
    "Uniform", "QUniform", "LogUniform", "QLogUniform", "BanditPolicy", "MedianStoppingPolicy",
    "TruncationSelectionPolicy", "SamplingAlgorithm", "RandomSamplingAlgorithm", "GridSamplingAlgorithm",
    "BayesianSamplingAlgorithm", "Objective",
})


def sweep_not_supported(what: str) -> SpecError:
    """The one error for a sweep (``what``: the call or name a ported script used)."""
    return SpecError(
        f"{what}: sweep jobs are not supported here (runner runs command and pipeline jobs; there is no "
        "hyperparameter search)",
        hint="run one command job per setting instead (for lr in (0.01, 0.1): "
             "ml_client.jobs.create_or_update(command(..., inputs={'lr': lr}))), or a pipeline with a step "
             "per setting")


def __getattr__(name: str) -> object:
    if name in AZURE_NAMES:
        raise sweep_not_supported(f"runner.sweep.{name} (azure.ai.ml.sweep's)")
    raise AttributeError(f"module 'runner.sweep' has no attribute '{name}'")
