"""Where a ``direct`` binding's store is: the ``host:port`` endpoints a job's container must reach, known
from the datastore's record without making any credential, so ``runner job validate`` and the run agree
(``runner.plan.network``). Only a host and a port leave here: never a URL's query, user or password, nor
any other part of a connection string or of storage options (they may hold secrets).

    datastore_endpoints(azurite_datastore)  # ("127.0.0.1:10000",)
    endpoints_in(["abfs://c/x", "http://[::1]:8080/y"])  # [("::1", 8080)]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from runner.lazy_re import on_first_use

if TYPE_CHECKING:
    from runner.workspace.datastore_kinds import AnyDatastore

# a user (and password) before the host is skipped, never kept
_endpoint_re = on_first_use(r"\b(https?)://(?:[^/\s@\"';]*@)?(\[[^\]]+\]|[^/:;\s\"'?#]+)(?::(\d{1,5}))?",
                            re.IGNORECASE)


def endpoints_in(values: Iterable[str]) -> list[tuple[str, int]]:
    """Every ``http(s)://host[:port]`` in ``values`` (a URL, a connection string's ``BlobEndpoint=``, JSON
    storage options' ``endpoint_url``), lower-cased and sorted, the scheme's port when none is written."""
    found = {(match.group(2).strip("[]").lower(),
              int(match.group(3) or (443 if match.group(1).lower() == "https" else 80)))
             for value in values for match in _endpoint_re().finditer(value)}
    return sorted((host, port) for host, port in found if 0 < port < 65536)


def endpoint_text(host: str, port: int) -> str:
    """``host:port`` (``[::1]:10000`` for an IPv6 address)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_endpoint(text: str) -> tuple[str, int]:
    """The inverse of ``endpoint_text``."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def datastore_endpoints(ds: AnyDatastore) -> tuple[str, ...]:
    """The ``host:port`` a ``direct`` binding on ``ds`` reaches (``endpoint_text``): an Azure datastore's
    blob endpoint (``AzureDatastore.direct_endpoint``, the one its direct credentials name), the http(s)
    endpoints an fsspec datastore's URL and storage options name (``endpoint_url``); none for a folder."""
    from runner.workspace.azure_datastore import AzureDatastore  # loaded: ``ds`` is one (of these)
    from runner.workspace.datastore_kinds import FsspecDatastore

    if isinstance(ds, AzureDatastore):
        values = [ds.direct_endpoint() or ""]
    elif isinstance(ds, FsspecDatastore):
        values = [ds.url, json.dumps(ds.storage_options, default=str)]
    else:
        values = []
    return tuple(endpoint_text(host, port) for host, port in endpoints_in(values))
