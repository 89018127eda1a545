"""Which protocols a path or a datastore's URL may use, and the one error for one that no fsspec filesystem
installed here knows (``foo://bar/x``, a misspelt ``s3://``), said where it was written: a job's
``inputs.<name>.path`` at its line (``resolve``), a datastore's ``url:`` at its line when it is created
(``datastore_urls``, from ``datastore_kinds``), the input read through a datastore an older runner saved
with one (``fsspec_reads``); each with the protocols allowed. fsspec is imported only for such a URL.

    protocols_hint()                              # what a path may be, fsspec's protocols listed
    unknown_protocol("zip://::foo://b/c.zip")     # 'foo' (None: fsspec knows every link's protocol)
"""

from __future__ import annotations

from runner.errors import SpecError
from runner.url_secrets import without_secrets
from runner.workspace.datastore_urls import CHAINS, datastore_url_hint, known_protocols, unknown_protocol
from runner.workspace.read_refusals import cannot


def protocols_hint() -> str:
    """What a path may be: the hint of an fsspec URL whose protocol is unknown."""
    known = ", ".join(known_protocols())
    return (f"an fsspec URL is <protocol>://<path> with a protocol fsspec knows ({known}), or a chain "
            f"({CHAINS}); the other paths are azureml://datastores/<name>/paths/<path>, "
            "azureml://jobs/<job>/outputs/<output>, azureml:<name>:<version>, a storage URL (wasbs://"
            "<container>@<account>.blob.core.windows.net/<path>) or a local path (check the protocol's "
            "spelling; a local path holding '::' is written ./<path>)")


def unknown_datastore_protocol(url: str, datastore: str, field: str | None) -> SpecError | None:
    """The error for an input read through a datastore (saved by an older runner) whose URL has a protocol
    fsspec does not know; None when it knows them all (another ``ValueError``: the caller's)."""
    if (protocol := unknown_protocol(url)) is None:
        return None
    return SpecError(f"{cannot(field)} through datastore '{datastore}': its url '{without_secrets(url)}' "
                     f"uses the protocol '{protocol}', which no fsspec filesystem installed here knows",
                     field=field,
                     hint="create the datastore again with a url fsspec reads (`runner datastore create "
                          f"--file <datastore.yml>`): {datastore_url_hint()}",
                     python_hint="create the datastore again with a url fsspec reads (`ml_client.datastores"
                                 f".create_or_update(...)`): {datastore_url_hint()}")
