"""Where registered versions' files lie, without the asset tables' machinery (a cold ``runner job
validate`` checks its outputs against these places and need not import the stores: ~18 M instructions):

- the registry upload folders, where registering a local file or folder copies it on a datastore
  (``<folder>/<name>/<version>/``): the one place each name is written, read by the tables
  (``runner.workspace.models.MODEL_TABLE``, ``runner.workspace.data_assets.DATA_TABLE``) and by the write
  guard (``runner.workspace.protect``);
- ``AssetAt``: a registered model or data version and where its files are, from the
  ``registered_assets`` view (``runner.workspace.db``): ``assets_at`` (at, in or around one location) and
  ``registered_locations`` (all of them). ``runner.workspace.assets`` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.workspace.db import Workspace

MODEL_UPLOAD_FOLDER = "LocalUpload"  # models'
DATA_UPLOAD_FOLDER = "DataUpload"  # data assets' (so a model and a data asset never share files)
UPLOAD_FOLDERS = (MODEL_UPLOAD_FOLDER, DATA_UPLOAD_FOLDER)


@dataclass(frozen=True)
class AssetAt:
    """A registered version whose files are at (or around) a location."""

    kind: str  # "model" or "data"
    name: str
    version: str
    datastore_uri: str


def assets_at(workspace: Workspace, uri: str) -> list[AssetAt]:
    """Registered model and data versions whose location is ``uri``, inside it, or around it (one query)."""
    location = uri.rstrip("/")
    stored = "rtrim(datastore_uri, '/')"
    query = ("SELECT kind, name, version, datastore_uri FROM registered_assets"
             f" WHERE datastore_uri IS NOT NULL AND ({stored} = ?"  # the location itself
             f" OR substr(?, 1, length({stored}) + 1) = {stored} || '/'"  # inside a registered folder
             " OR substr(datastore_uri, 1, length(?) + 1) = ? || '/')")  # a registered version inside it
    with workspace.reading() as conn:
        rows = conn.execute(query, (location, location, location, location)).fetchall()
    return [AssetAt(r["kind"], r["name"], r["version"], r["datastore_uri"]) for r in rows]


def registered_locations(workspace: Workspace) -> list[AssetAt]:
    """Every registered model and data version (every registry namespace) with where its files are:
    the places no job may write (``runner.workspace.protect``)."""
    with workspace.reading() as conn:
        rows = conn.execute("SELECT kind, name, version, datastore_uri FROM registered_assets "
                            "WHERE datastore_uri IS NOT NULL").fetchall()
    return [AssetAt(r["kind"], r["name"], r["version"], r["datastore_uri"]) for r in rows]
