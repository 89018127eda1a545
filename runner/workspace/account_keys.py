"""Azure storage account keys are base64: one that is not (the docs' placeholder pasted as is, a key cut
short of its ``=`` padding) is refused where it is given, never echoed.

- When a datastore is created (or read back): ``credentials.account_key``, the ``AccountKey=`` of a
  ``connection_string``, and an abfs/az fsspec datastore's ``storage_options`` (``account_key``,
  ``connection_string``); the types below carry the check, so ``datastore_kinds`` only names them.
- At run time, when the Azure SDK could not sign with a key from elsewhere (``AZURE_STORAGE_*``):
  ``bad_key_error`` says which, instead of the SDK's "Incorrect padding" read as a denial by the service.

The rule is the lean client's (``mounts.stores.azure_account.account_key_bytes``, not imported here:
validating a job imports no ``mounts``): what the Azure SDK decodes (``base64.b64decode``; whitespace
does not count), strictly: other characters (which the SDK drops, making another key) or missing padding
(which it cannot decode) are refused.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Annotated, Any

from pydantic import AfterValidator, SecretStr, ValidationInfo

from runner.errors import StorageError
from runner.spec.validation import runner_error
from runner.url_secrets import without_secrets

KEY_HINT = ("give the storage account's access key, base64 as the portal shows it (Azurite's well-known key "
            "for the emulator)")
AZURE_PROTOCOLS = ("abfs", "abfss", "az")


def is_account_key(text: str) -> bool:
    """Whether ``text`` is an account key the Azure SDK decodes to what it says (see the module)."""
    try:
        base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _connection_key(text: str) -> str | None:
    """A connection string's ``AccountKey=`` (its names are case-insensitive, as the SDK reads them)."""
    parts = (item.partition("=") for item in text.split(";"))
    return next((value.strip() for name, sep, value in parts if sep and name.strip().lower() == "accountkey"),
                None)


def _refused(what: str) -> Any:
    return runner_error(f"{what} is not base64", KEY_HINT)


def _check_key(value: SecretStr) -> SecretStr:
    if not is_account_key(value.get_secret_value()):
        raise _refused("the account key")
    return value


def _check_connection_string(value: SecretStr) -> SecretStr:
    key = _connection_key(value.get_secret_value())
    if key and not is_account_key(key):
        raise _refused("the connection string's AccountKey=")
    return value


def _check_options(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """An abfs/az URL's options (top level, or under its protocol in a chain's): adlfs'."""
    url = str(info.data.get("url", ""))
    protocols = {link.split("://", 1)[0] for link in url.split("::") if "://" in link}
    options = [value] if protocols & set(AZURE_PROTOCOLS) else []
    options += [value[p] for p in AZURE_PROTOCOLS if isinstance(value.get(p), dict)]
    for option in options:
        key, conn = option.get("account_key"), option.get("connection_string")
        if isinstance(key, str) and key and not is_account_key(key):
            raise _refused("storage_options: account_key")
        if isinstance(conn, str) and (found := _connection_key(conn)) and not is_account_key(found):
            raise _refused("storage_options: connection_string's AccountKey=")
    return value


AccountKey = Annotated[SecretStr, AfterValidator(_check_key)]
ConnectionString = Annotated[SecretStr, AfterValidator(_check_connection_string)]
StorageOptions = Annotated[dict[str, Any], AfterValidator(_check_options)]


def _key_source() -> str:
    """Where adlfs took the key it signed with, when no datastore gave it: the variable it reads first."""
    conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if conn and (key := _connection_key(conn)) and not is_account_key(key):
        return "AZURE_STORAGE_CONNECTION_STRING (its AccountKey=)"
    if (key := os.environ.get("AZURE_STORAGE_ACCOUNT_KEY")) and not is_account_key(key):
        return "AZURE_STORAGE_ACCOUNT_KEY"
    return "the options adlfs was given (fsspec configuration: FSSPEC_ABFS, FSSPEC_AZ)"


def bad_key_error(exc: BaseException, uri: str, *, datastore: str | None = None) -> StorageError | None:
    """The one error for a read the Azure SDK could not sign because its account key is not base64
    (``AzureSigningError`` from ``binascii.Error``), else None. The lean client says it itself
    (``AccountKeyNotBase64``, a ``MountsError``: ``transfers.translated``)."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    names = {cls.__name__ for err in chain for cls in type(err).__mro__}
    if "AzureSigningError" not in names or not any(isinstance(err, binascii.Error) for err in chain):
        return None
    where = f"the credentials of datastore '{datastore}'" if datastore else _key_source()
    return StorageError(f"cannot sign requests for '{without_secrets(uri)}': the account key in {where} is "
                        "not base64", hint=KEY_HINT)
