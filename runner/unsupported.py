"""What runner does not do of azure.ai.ml, as one clear error where a ported script reaches for it.

    from runner.entities import ManagedOnlineEndpoint   # SpecError: online and batch endpoints ... not here
    from runner import automl, spark, load_batch_endpoint   # the same, for their feature
    ml_client.online_endpoints                          # AttributeError naming the feature (hasattr: False)

A name is matched to a feature by its words (``endpoint``, ``deployment``, ``schedule``, ``spark``...), so
the many names of one feature need no list; a name of none of them (a misspelling) stays an ordinary
``AttributeError``, with the close name where there is one.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.errors import SpecError
from runner.spec.validation import did_you_mean

RUNS = "runner runs command and pipeline jobs on this machine"
# feature -> (the words of its azure.ai.ml names, lower case; what to do instead), the first match wins
FEATURES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("model monitoring", ("monitor", "signal", "metricthreshold", "driftmetrics", "qualitymetrics"),
     "compute the metrics in a command job"),
    ("online and batch endpoints",
     ("endpoint", "deployment", "inferencingserver", "modelpackage", "scalesettings", "probesettings",
      "requestsettings", "retrysettings", "codeconfiguration"),
     "download the registered model (ml_client.models.download(name, version)) and serve it yourself, e.g. "
     "`mlflow models serve -m <folder>`; score a batch with a command job that takes the model as an input"),
    ("schedules", ("schedule", "trigger", "recurrence"), "start the job from cron or your CI"),
    ("Spark jobs", ("spark",), "run PySpark in a command job's environment"),
    ("AutoML jobs", ("automl",), "train with your own script in a command job"),
    ("parallel jobs", ("parallel",), "split the data over the steps of a pipeline"),
    ("feature stores", ("feature", "materialization"), "read the data as a job input"),
    ("Azure registries, connections and workspace resources (the workspace is a local folder here)",
     ("workspace", "registr", "connection", "outbound", "customermanagedkey", "capabilityhost", "index",
      "evaluator", "marketplace", "hub", "project"),
     "MLClient(workspace_dir=...) chooses the local workspace; ml_client.datastores registers storage"),
)
# azure.ai.ml's top-level names of those features (``from azure.ai.ml import ...``); runner's own submodules
# (``runner.workspace``...) share words with them, so the package refuses these names only
TOP_LEVEL = frozenset({
    "spark", "automl", "load_batch_deployment", "load_batch_endpoint", "load_online_deployment",
    "load_online_endpoint", "load_deployment_template", "load_feature_set", "load_feature_store",
    "load_feature_store_entity", "load_index", "load_workspace", "load_registry", "load_connection",
    "load_workspace_connection", "load_model_package", "load_marketplace_subscription",
    "load_serverless_endpoint", "load_capability_host",
})


def feature_of(name: str) -> tuple[str, str] | None:
    """The feature azure.ai.ml's ``name`` belongs to, and what to do instead (None: no unsupported one)."""
    words = name.lower().replace("_", "")
    if name.startswith("_"):
        return None
    for feature, parts, instead in FEATURES:
        if any(part in words for part in parts):
            return feature, instead
    return None


def not_supported(what: str, name: str) -> SpecError | None:
    """The one error for azure.ai.ml's ``name`` reached as ``what`` (``runner.entities.X``), or None."""
    found = feature_of(name)
    if found is None:
        return None
    feature, instead = found
    return SpecError(f"{what}: {feature} are not supported here ({RUNS})", hint=instead)


def no_operations(owner: str, name: str, known: Iterable[str]) -> AttributeError:
    """``ml_client.<name>`` that ``owner`` (``MLClient``) does not have: the feature it is azure.ai.ml's for
    and what to do instead, else the close one of ``known``."""
    found = feature_of(name)
    if found is None:
        return AttributeError(f"'{owner}' object has no attribute '{name}'{did_you_mean(name, list(known))}")
    feature, instead = found
    return AttributeError(f"'{owner}' object has no attribute '{name}': azure.ai.ml's {feature} are not "
                          f"supported here ({RUNS}); {instead}")
