"""azure.ai.ml's ``load_model``, ``load_data``, ``load_environment`` and ``load_datastore``: an asset's
YAML (Azure's schema) as the entity its ``ml_client.<assets>.create_or_update`` takes.

    from runner import MLClient, load_model
    ml_client.models.create_or_update(load_model(source="model.yml", params_override=[{"version": "3"}]))

``params_override`` sets top-level fields (``[{"version": "3"}]``); ``relative_origin`` is accepted for
compatibility (relative paths are relative to the YAML's folder, as in Azure).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.entities import Environment
from runner.errors import SpecError
from runner.spec import data as data_spec
from runner.spec import model as model_spec
from runner.spec.data import Data
from runner.spec.environment import load_environment_file
from runner.spec.model import Model
from runner.workspace import datastores as datastore_store
from runner.workspace.datastores import AnyDatastore, validation_to_spec_error

__all__ = ["load_data", "load_datastore", "load_environment", "load_model"]

Overrides = Sequence[Mapping[str, Any]] | None


def _merged(params_override: Overrides) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mapping in params_override or ():
        for key, value in mapping.items():
            if "." in key:
                raise SpecError(f"params_override '{key}': only top-level fields can be set here",
                                field=key, hint='write [{"version": "3"}], [{"description": "..."}]')
            merged[key] = value
    return merged


def load_model(source: str | os.PathLike[str], *, relative_origin: str | None = None,
               params_override: Overrides = None, **_: Any) -> Model:
    """A model YAML (``az ml model create --file``'s) as a ``Model``."""
    return model_spec.load_model(Path(source), overrides=_merged(params_override))


def load_data(source: str | os.PathLike[str], *, relative_origin: str | None = None,
              params_override: Overrides = None, **_: Any) -> Data:
    """A data asset YAML as a ``Data``."""
    return data_spec.load_data(Path(source), overrides=_merged(params_override))


def load_environment(source: str | os.PathLike[str], *, relative_origin: str | None = None,
                     params_override: Overrides = None, **_: Any) -> Environment:
    """An environment YAML (name, version, image or build, conda_file) as an ``Environment``
    (``build.path`` and ``conda_file`` made absolute)."""
    spec = load_environment_file(Path(source))
    changes = _merged(params_override)
    if changes:
        try:
            spec = type(spec).model_validate({**spec.model_dump(exclude_none=True), **changes})
        except ValidationError as exc:
            raise SpecError(f"params_override: {exc.errors()[0]['msg']}", field="params_override") from exc
    return Environment._from_spec(spec)


def load_datastore(source: str | os.PathLike[str], *, relative_origin: str | None = None,
                   params_override: Overrides = None, **_: Any) -> AnyDatastore:
    """A datastore YAML as the datastore ``ml_client.datastores.create_or_update`` takes."""
    datastore = datastore_store.load_datastore(Path(source))
    changes = _merged(params_override)
    if not changes:
        return datastore
    try:
        return datastore_store.datastore_from_dict({**datastore.model_dump(by_alias=True, exclude_none=True),
                                                    **changes})
    except ValidationError as exc:
        raise validation_to_spec_error(exc) from exc
