"""What the Register model form may copy into the registry: only files of the folder the UI serves.

Anyone who can open connections on this machine can use the UI (docs/guides/web-ui.md, Security), and
the UI reads files as the user who started it, so a form that took any host path would hand any local
user every file that user can read (``/etc/shadow``, ``~/.ssh``), served back by Download. The form
therefore takes a local path (or ``file://`` / ``local://`` URL) only inside the folder ``runner ui``
was started in (``files_root``), judged where it really is: a link that leads out of that folder, as
the path or anywhere in a folder the copy would read, is refused. Paths the workspace's owner set up
are taken as they are (a datastore path, a job's output, a registered asset, a remote storage URL) as
long as they stay inside their datastore's folder (``runner.ui.served``).
Other fsspec URLs (``memory://``, ``git://``, ``zip://...::file://``, ...) can reach this machine's
files and are refused. ``runner model create`` (which acts as its user, in a shell) has no such limit.
The workspace's own secrets are refused everywhere (``runner.workspace.private_sources``).
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.client import MLClient
from runner.errors import SpecError
from runner.ui.served import refuse_unserved
from runner.uris import DatastorePath, FsspecUrl, JobOutputPath, LocalPath, ModelRef, parse_path
from runner.workspace.datastore_kinds import LOCAL_PROTOCOLS
from runner.workspace.outbound_links import inside
from runner.workspace.private_sources import walk_followed

REMOTE_PROTOCOLS = ("http", "https", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "hf")
FORM_PATHS = ("a file or folder in the folder the UI serves, azureml://datastores/<ds>/paths/<p>, "
              "azureml://jobs/<job>/outputs/<out>, runs:/<run>/<p>, azureml:<name>:<version> or a remote "
              "storage URL (" + ", ".join(f"{p}://" for p in REMOTE_PROTOCOLS) + ")")
CLI_HINT = "to register any other path, use `runner model create --path <path>` in a shell (it acts as you)"


def check_form_source(path: str, root: Path, *, client: MLClient | None = None, asset_type: str = "") -> None:
    """Refuse (``SpecError`` on field ``path``) what the form may not register from ``path`` (a relative
    path is relative to ``root``, the folder the UI serves). With ``client``, a datastore path, a job's
    output or a registered asset on this machine is resolved and refused when the UI may not serve it
    (``runner.ui.served``: through or holding a link out of its datastore, the workspace's own files)."""
    ref = parse_path(path, field="path")
    if client is not None and isinstance(ref, DatastorePath | JobOutputPath | ModelRef):
        refuse_unserved(client.workspace, client.resolver.resolve(ref, field="path", asset_type=asset_type),
                        walk=True)
        return
    if isinstance(ref, FsspecUrl):
        protocol, _, rest = ref.url.partition("://")
        if "::" in ref.url or protocol.lower() not in (*REMOTE_PROTOCOLS, *LOCAL_PROTOCOLS):
            raise SpecError(f"the Register form does not take '{protocol}://' URLs ('{path}'): they can "
                            f"read this machine's files; it takes {FORM_PATHS}", field="path", hint=CLI_HINT)
        if protocol.lower() not in LOCAL_PROTOCOLS:
            return
        ref = LocalPath("/" + rest.lstrip("/"))
    if not isinstance(ref, LocalPath):
        return  # a datastore, a job's output, a registered asset, an Azure storage URL
    host = Path(ref.path).expanduser()
    host = host if host.is_absolute() else root / host
    folder = os.path.realpath(root)
    if not inside(os.path.realpath(host), folder):
        raise SpecError(f"'{path}' is outside the folder the UI serves ({folder}): anyone who can open "
                        "connections on this machine can use the UI, so it registers only files of the "
                        "folder `runner ui` was started in", field="path",
                        hint=f"copy the files into {folder}, or {CLI_HINT}")
    for entry in walk_followed(host) if os.path.isdir(host) else ():
        if os.path.islink(entry) and not inside(target := os.path.realpath(entry), folder):
            raise SpecError(f"'{path}' holds {entry}, a link that leads out of the folder the UI serves "
                            f"({folder}) to {target}", field="path",
                            hint=f"remove the link or put the file it points to in its place, or {CLI_HINT}")
