"""An MLflow model's flavors, read from its ``MLmodel`` file when it is registered as an ``mlflow_model``
without ``flavors`` (``runner.workspace.registry.ModelRegistry``), as Azure ML fills a registered MLflow
model's ``flavors`` from it: ``{"python_function": {"loader_module": "mlflow.sklearn", ...}, "sklearn":
{...}}``, the file's ``flavors`` mapping as it is.

The file is read through the model's store (a local folder, a job's output, a datastore), at most
``MAX_MLMODEL_BYTES``, and parsed as a job file is (``runner.spec.yamlio``: no alias expands past its
limits). One that is larger, is not YAML or lists no flavors leaves them unset, with a warning naming the
file: the model is registered as before (an MLmodel file is MLflow's, not the user's own to fix).
"""

from __future__ import annotations

import logging
from typing import Any

from runner.errors import SpecError
from runner.spec.yamlio import MAX_SPEC_BYTES, load_yaml_text
from runner.url_secrets import without_secrets

logger = logging.getLogger(__name__)

MLMODEL_FILE = "MLmodel"
MAX_MLMODEL_BYTES = MAX_SPEC_BYTES  # MLflow writes a few hundred bytes


def mlmodel_flavors(fs: Any, folder: str, *, shown: str) -> dict[str, Any] | None:
    """The ``flavors`` of the ``MLmodel`` file in ``folder`` on the fsspec filesystem ``fs`` (None: none
    read; ``shown``: the model's path, as a warning names it)."""
    path = f"{folder.rstrip('/')}/{MLMODEL_FILE}"
    try:
        with fs.open(path, "rb") as handle:
            raw = handle.read(MAX_MLMODEL_BYTES + 1)
    except (OSError, ValueError) as exc:
        return _unread(shown, f"cannot be read: {exc}")
    if len(raw) > MAX_MLMODEL_BYTES:
        return _unread(shown, f"holds more than {MAX_MLMODEL_BYTES} bytes")
    try:
        data = load_yaml_text(raw.decode("utf-8")).data
    except (SpecError, UnicodeDecodeError) as exc:
        return _unread(shown, f"is not YAML ({str(exc).splitlines()[0]})")
    flavors = data.get("flavors") if isinstance(data, dict) else None
    if not isinstance(flavors, dict) or not flavors:
        return _unread(shown, "lists no flavors")
    return dict(flavors)


def _unread(shown: str, why: str) -> dict[str, Any] | None:
    """None (no flavors), said in a warning."""
    logger.warning("%s", without_secrets(f"the flavors of the mlflow_model at {shown} are left unset: its "
                                         f"{MLMODEL_FILE} file {why}"))  # a store's error may echo a URL
    return None
