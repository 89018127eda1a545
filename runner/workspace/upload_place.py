"""A version's upload place (``<upload folder>/<name>/<version>/`` on the datastore a registration copies
into) is replaced when a registration finds something there with no row: what a registration that died
before committing left behind. It may instead be what must be kept, and then registration refuses
(``RegistryError`` on field ``path``) before anything there is touched:

- the very source being copied (a folder on this machine that is, lies in or holds that place: a user
  who put their files at ``DataUpload/d/1`` and registers them as ``d`` version 1);
- the files of a version registered in place there (``azureml://datastores/<ds>/paths/DataUpload/d/1``
  as another asset's path), or around or inside it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from runner.errors import RegistryError
from runner.workspace.outbound_links import inside


def refuse_kept_upload_place(conn: sqlite3.Connection, *, noun: str, cli: str, place: str, datastore: str,
                             version: str, local_root: str | None, source: Path | None,
                             name: str = "<name>") -> None:
    """Refuse to copy version ``version`` into ``place`` (``DataUpload/<name>/<version>``, relative to
    the datastore's root; ``local_root``: that root on this machine, None on a remote store) when what
    is there must be kept (see the module's docstring). ``name``: the asset's, for the Python hint."""
    uri = f"azureml://datastores/{datastore}/paths/{place}"
    stored = "rtrim(datastore_uri, '/')"
    rows = conn.execute("SELECT kind, name, version FROM registered_assets WHERE datastore_uri IS NOT NULL"
                        f" AND ({stored} = ? OR substr(?, 1, length({stored}) + 1) = {stored} || '/'"
                        " OR substr(datastore_uri, 1, length(?) + 1) = ? || '/')", (uri, uri, uri, uri)
                        ).fetchall()
    if rows:
        named = ", ".join(f"{'data asset' if r['kind'] == 'data' else 'model'} '{r['name']}' version "
                          f"{r['version']}" for r in rows)
        raise RegistryError(f"cannot store {noun} version {version} at {place} on datastore '{datastore}': "
                            f"the files of {named} are there (registered where they are), and storing a "
                            "version there replaces what is there", field="path",
                            hint=f"give another version (`runner {cli} create --version <v>`)",
                            python_hint=f"give another version (`{cli.title()}(name='{name}', version='<v>', "
                                        "path=...)`)")
    if local_root is None or source is None:
        return
    root, real = os.path.realpath(local_root), os.path.realpath(source)
    there = os.path.realpath(os.path.join(local_root, place))
    if not (inside(real, there) or inside(there, real)):
        return
    how = "is" if real == there else "lies in" if inside(real, there) else "holds"
    where = f"azureml://datastores/{datastore}/paths/{real[len(root):].strip('/')}" if inside(real, root) \
        else "its datastore path"
    raise RegistryError(f"cannot register '{source}' as {noun} version {version}: it {how} {place} on "
                        f"datastore '{datastore}' ({there}), where that version's files are stored, and "
                        "storing them replaces what is there: your files would be deleted", field="path",
                        hint=f"register the files where they are: {where} (nothing is copied), give another "
                             "version, or copy them elsewhere first")
