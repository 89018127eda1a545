"""Whom the lean Azure client signs as: an ``AzureAccount`` (endpoint, account, key or SAS), read from an
adlfs filesystem, its constructor's options, or a connection string (``mounts.stores.azure``)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mounts.stores.azure_listing import DEVSTORE_ACCOUNT, DEVSTORE_KEY, parse_connection_string
from mounts.stores.azure_urls import is_adlfs


@dataclass(frozen=True)
class AzureAccount:
    endpoint: str  # scheme://host[:port][/account for path-style]
    account: str
    key: bytes | None = field(default=None, repr=False)
    sas: str | None = field(default=None, repr=False)  # without the leading "?"


def account_from_fs(fs: Any) -> AzureAccount | None:
    """The account behind an adlfs ``AzureBlobFileSystem`` (or a ``DeferredAzureFileSystem``, which
    carries it), or None when it is not one we can sign for."""
    deferred = vars(fs).get("account") if hasattr(fs, "__dict__") else None
    if isinstance(deferred, AzureAccount):
        return deferred
    if not is_adlfs(type(fs)):  # adlfs' own, or ``RetryingAzureBlobFileSystem`` (mounts.stores.azure_sdk)
        return None
    if getattr(fs, "connection_string", None):
        return _account_from_connection_string(fs.connection_string)
    name = getattr(fs, "account_name", None)
    if not name:
        return None
    key, sas = getattr(fs, "account_key", None), getattr(fs, "sas_token", None)
    if getattr(fs, "credential", None) is not None and not key:
        return None  # an Azure AD credential: leave it to the SDK
    host = getattr(fs, "account_host", None) or f"{name}.blob.core.windows.net"
    return AzureAccount(f"https://{host}", name, base64.b64decode(key) if key else None,
                        sas.lstrip("?") if sas else None)


def _account_from_connection_string(text: str) -> AzureAccount | None:
    parts = parse_connection_string(text)
    if parts.get("usedevelopmentstorage", "").lower() == "true":
        parts = {"accountname": DEVSTORE_ACCOUNT, "accountkey": DEVSTORE_KEY,
                 "blobendpoint": f"http://127.0.0.1:10000/{DEVSTORE_ACCOUNT}"}
    name = parts.get("accountname", "")
    endpoint = parts.get("blobendpoint")
    if not endpoint:
        if not name:
            return None
        protocol = parts.get("defaultendpointsprotocol", "https")
        endpoint = f"{protocol}://{name}.blob.{parts.get('endpointsuffix', 'core.windows.net')}"
    if not name:  # a SAS-only connection string: the account is the first host label
        name = (urlsplit(endpoint).hostname or "").split(".")[0]
    key, sas = parts.get("accountkey"), parts.get("sharedaccesssignature")
    return AzureAccount(endpoint.rstrip("/"), name, base64.b64decode(key) if key else None,
                        sas.lstrip("?") if sas else None)


def account_from_options(options: Mapping[str, Any]) -> AzureAccount | None:
    """The account ``adlfs.AzureBlobFileSystem(**options)`` would sign as with a key or a SAS (a
    connection string, or ``account_name`` with ``account_key`` / ``sas_token``), else None (Azure AD,
    the default credential chain: adlfs and the SDK)."""
    if options.get("connection_string"):
        return _account_from_connection_string(options["connection_string"])
    name, key, sas = options.get("account_name"), options.get("account_key"), options.get("sas_token")
    if not name or not (key or sas) or options.get("credential") is not None:
        return None
    host = options.get("account_host") or f"{name}.blob.core.windows.net"
    return AzureAccount(f"https://{host}", name, base64.b64decode(key) if key else None,
                        sas.lstrip("?") if sas else None)
