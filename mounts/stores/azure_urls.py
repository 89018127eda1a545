"""The filesystem the runner has fsspec make for an Azure URL (abfs://, az://, abfss://; a chain's link too):
``mounts.stores.azure_sdk.RetryingAzureBlobFileSystem``, adlfs' whose Azure SDK client retries as
``mounts.retry.configure_sdk_retries`` says from the moment it is made (adlfs passes no retry settings to the
client, and fsspec makes it, reading an archive over Azure, before any caller could configure it).

fsspec finds a chain's filesystems in its registry, which is the process's: a user's own code in it
(``fsspec.filesystem("abfs")``, ``pd.read_csv("abfs://...")``) reads that registry too. So the class is
registered under runner-only names (``OWN_PROTOCOLS``: ``runner-abfs``... a scheme as RFC 3986 and
fsspec's ``infer_storage_options`` take it, never one fsspec knows), and the runner renames its own URL's
Azure links to them only when it hands the URL to fsspec (``retrying_url``); adlfs' names stay adlfs'.
What the runner shows keeps the URL as written, and the filesystem names itself as adlfs' does
(``abfs://``: the class keeps adlfs' ``protocol``). A link whose protocol is registered to a class other
than adlfs' own (someone else's) is left alone. Nothing here imports adlfs or the Azure SDK (~0.5 s):
fsspec does, when one is first made.

adlfs reads its account and credentials from ``AZURE_STORAGE_*`` when it is not given them (``ADLFS_ENV``),
and the azure-identity credential it makes then reads ``AZURE_CLIENT_*`` & co (``IDENTITY_ENV``),
but fsspec keeps one filesystem per constructor arguments: ``env_credentials_digest`` is what the retrying
class adds to that key, so a long-lived process whose variables change gets a filesystem of the new account
(the same one while they stay: nothing is made again per call).

    fs, path = fsspec.core.url_to_fs(*retrying_url("zip://a.txt::abfs://c/d.zip", {}))  # the link retries
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any

AZURE_PROTOCOLS = ("abfs", "az", "abfss")  # adlfs' (fsspec's names for Azure Blob and ADLS Gen2)
OWN_PROTOCOLS = {protocol: f"runner-{protocol}" for protocol in AZURE_PROTOCOLS}  # what the runner reads
RETRYING_ADLFS = "mounts.stores.azure_sdk.RetryingAzureBlobFileSystem"
ADLFS = "adlfs.AzureBlobFileSystem"  # fsspec's entry for them (fsspec.registry.known_implementations)
_NAMING_KEYS = ("protocol", "target_protocol")  # storage options whose value is a link's protocol
# what adlfs reads from the environment for what it is not given (adlfs/spec.py, AzureBlobFileSystem.__init__)
ADLFS_ENV = ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_CONNECTION_STRING",
             "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CLIENT_ID", "AZURE_STORAGE_CLIENT_SECRET",
             "AZURE_STORAGE_TENANT_ID", "AZURE_STORAGE_ANON")
# what azure-identity's credentials (adlfs' DefaultAzureCredential, a service principal's) read from the
# environment for whom they sign as (azure/identity/_constants.py EnvironmentVariables, managed identity's)
IDENTITY_ENV = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
                "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_USERNAME",
                "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
                "AZURE_REGIONAL_AUTHORITY_NAME", "AZURE_TOKEN_CREDENTIALS",
                "AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER",
                "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET")
_SALT = os.urandom(32)  # this process's own: a digest here says nothing of the values it was made from


def env_credentials_digest() -> str:
    """A digest of the ``ADLFS_ENV`` and ``IDENTITY_ENV`` variables as they are now: the same while they stay,
    another when one changes (a filesystem made with the old identity is not kept). Keyed with a random
    secret of this process (HMAC-SHA256), so it cannot be matched against guessed values anywhere else; held
    in memory only (fsspec's instance key), never logged or recorded."""
    values = json.dumps([os.environ.get(name) for name in (*ADLFS_ENV, *IDENTITY_ENV)])
    return hmac.new(_SALT, values.encode(), "sha256").hexdigest()


def use_retrying_adlfs() -> None:
    """From now on, in this process, fsspec knows the runner-only protocols (``OWN_PROTOCOLS``) as
    ``RetryingAzureBlobFileSystem`` (imported when one is first made); adlfs' own protocols stay adlfs'."""
    import fsspec
    from fsspec.registry import known_implementations

    for ours in OWN_PROTOCOLS.values():
        if ours not in known_implementations:
            fsspec.register_implementation(ours, RETRYING_ADLFS, errtxt="Install adlfs to access Azure Blob "
                                           "Storage and Azure Data Lake Storage Gen2")


def retrying_url(url: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``url`` and its storage ``options`` as the runner hands them to fsspec (``url_to_fs``): each link
    over an Azure protocol that is adlfs' (``is_adlfs_protocol``) under its runner-only name, so fsspec makes
    ``RetryingAzureBlobFileSystem`` for it (``use_retrying_adlfs`` ran), and the options keyed by that
    protocol (``{"abfs": {...}}`` for a chain's link, a ``target_protocol``) renamed with it. A link the
    options alone name (``simplecache://c/p`` with ``target_protocol: abfs``) is renamed there too. Any
    other URL is returned as it is."""
    renamed = {protocol: ours for protocol, ours in OWN_PROTOCOLS.items()
               if (_names_link(url, protocol) or protocol in options_protocols(options))
               and is_adlfs_protocol(protocol)}
    if not renamed:
        return url, options
    use_retrying_adlfs()
    links = [_renamed_link(link, renamed) for link in url.split("::")]
    return "::".join(links), _renamed_options(options, renamed)


def _names_link(url: str, protocol: str) -> bool:
    return any(link == protocol or link.startswith(f"{protocol}://") for link in url.split("::"))


def options_protocols(options: dict[str, Any]) -> set[str]:
    """The protocols storage ``options`` name for a link (``_NAMING_KEYS``: a cache's ``target_protocol``),
    at their top level or one level down (a chain's link's own options)."""
    levels = [options, *(value for value in options.values() if isinstance(value, dict))]
    return {value for level in levels for key, value in level.items()
            if key in _NAMING_KEYS and isinstance(value, str)}


def _renamed_link(link: str, renamed: dict[str, str]) -> str:
    protocol, sep, rest = link.partition("://")
    return f"{renamed[protocol]}{sep}{rest}" if protocol in renamed else link


def _renamed_options(options: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """``options`` with the keys and the ``_NAMING_KEYS`` values that name a renamed protocol renamed
    (one level down too: a chain's link's own options)."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in _NAMING_KEYS and isinstance(value, str):
            value = renamed.get(value, value)
        elif isinstance(value, dict):
            value = {k: renamed.get(v, v) if k in _NAMING_KEYS and isinstance(v, str) else v
                     for k, v in value.items()}
        out[renamed.get(key, key)] = value
    return out


def is_adlfs_protocol(protocol: str) -> bool:
    """Whether fsspec makes adlfs' own ``AzureBlobFileSystem`` for ``protocol`` (its class imported or only
    named), not a class someone else registered for it."""
    import fsspec
    from fsspec.registry import known_implementations

    current = fsspec.registry.get(protocol)  # a class fsspec imported for it already, if any
    if current is None:
        return bool(known_implementations.get(protocol, {}).get("class") == ADLFS)
    return is_adlfs(current, exactly=True)


def adlfs_url(url: str) -> str:
    """``url`` (a link, or a path as adlfs is handed it) with a runner-only protocol back to adlfs' name."""
    for protocol, ours in OWN_PROTOCOLS.items():
        if url.startswith(f"{ours}://"):
            return protocol + url[len(ours):]
    return url


def is_adlfs(cls: type, *, exactly: bool = False) -> bool:
    """Whether ``cls`` is adlfs' ``AzureBlobFileSystem`` (``exactly``), or that or a subclass of it (such as
    ``RetryingAzureBlobFileSystem``), told by name: adlfs is not imported for this."""
    return any(c.__name__ == "AzureBlobFileSystem" and c.__module__.startswith("adlfs")
               for c in (cls.__mro__[:1] if exactly else cls.__mro__))
