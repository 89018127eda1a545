"""Whom the lean Azure client signs as: an ``AzureAccount`` (endpoint, account, key or SAS), read from an
adlfs filesystem, its constructor's options, or a connection string (``mounts.stores.azure``)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mounts.errors import MountsError
from mounts.stores.azure_listing import DEVSTORE_ACCOUNT, DEVSTORE_KEY, parse_connection_string
from mounts.stores.azure_urls import is_adlfs

KEY_HINT = ("give the storage account's access key, base64 as the portal shows it (Azurite's well-known key "
            "for the emulator)")


class AccountKeyNotBase64(MountsError):
    """An account key that is not base64: where it came from, never the key."""


def account_key_bytes(key: str, where: str) -> bytes:
    """An account key's bytes, decoded as the Azure SDK decodes it (``base64.b64decode``: whitespace does
    not count) but strictly (``validate=True``): what the SDK would turn into another key (other
    characters, which it drops), or cannot decode (missing padding), is refused, naming ``where`` it came
    from. The same rule as ``runner.workspace.account_keys`` (which checks datastores when created)."""
    try:
        return base64.b64decode("".join(key.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AccountKeyNotBase64(f"the account key in {where} is not base64: {KEY_HINT}") from None


def _source(value: str, option: str, variable: str, part: str = "") -> str:
    """Where adlfs took ``value`` from: the environment variable it reads when not given, or the option."""
    return f"{variable}{part}" if os.environ.get(variable) == value else f"the {option} option{part}"


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
        return _account_from_connection_string(fs.connection_string, _source(
            fs.connection_string, "connection_string", "AZURE_STORAGE_CONNECTION_STRING", " (AccountKey=)"))
    name = getattr(fs, "account_name", None)
    if not name:
        return None
    key, sas = getattr(fs, "account_key", None), getattr(fs, "sas_token", None)
    if getattr(fs, "credential", None) is not None and not key:
        return None  # an Azure AD credential: leave it to the SDK
    host = getattr(fs, "account_host", None) or f"{name}.blob.core.windows.net"
    where = _source(key, "account_key", "AZURE_STORAGE_ACCOUNT_KEY") if key else ""
    return AzureAccount(f"https://{host}", name, account_key_bytes(key, where) if key else None,
                        sas.lstrip("?") if sas else None)


def _account_from_connection_string(text: str, where: str = "the connection string (AccountKey=)"
                                    ) -> AzureAccount | None:
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
    return AzureAccount(endpoint.rstrip("/"), name, account_key_bytes(key, where) if key else None,
                        sas.lstrip("?") if sas else None)


def account_from_options(options: Mapping[str, Any]) -> AzureAccount | None:
    """The account ``adlfs.AzureBlobFileSystem(**options)`` would sign as with a key or a SAS (a
    connection string, or ``account_name`` with ``account_key`` / ``sas_token``), else None (Azure AD,
    the default credential chain: adlfs and the SDK)."""
    if options.get("connection_string"):
        return _account_from_connection_string(options["connection_string"],
                                               "the connection_string option (AccountKey=)")
    name, key, sas = options.get("account_name"), options.get("account_key"), options.get("sas_token")
    if not name or not (key or sas) or options.get("credential") is not None:
        return None
    host = options.get("account_host") or f"{name}.blob.core.windows.net"
    decoded = account_key_bytes(key, "the account_key option") if key else None
    return AzureAccount(f"https://{host}", name, decoded, sas.lstrip("?") if sas else None)
