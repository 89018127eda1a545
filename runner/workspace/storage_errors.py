"""What a storage failure means, in words a user can act on: not found, cannot connect, access denied.

fsspec backends raise ``FileNotFoundError`` for a missing object; adlfs lets the Azure SDK's errors
through (``ServiceRequestError`` when no connection can be made, ``HttpResponseError`` with status
401/403 when the service refuses the request); other backends raise ``PermissionError`` or
``ConnectionError`` (``OSError``s). The classes are recognized by name, so this module imports no SDK.
"""

from __future__ import annotations

import errno
import warnings
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from runner.errors import StorageError
from runner.url_secrets import without_secrets
from runner.workspace.account_keys import bad_key_error

_CONNECT_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH,
                   errno.ETIMEDOUT, errno.ECONNABORTED}
_CONNECT_CLASSES = {"ServiceRequestError", "ClientConnectorError", "ClientConnectionError", "ConnectionError",
                    "ConnectTimeout", "ServerTimeoutError", "gaierror", "TimeoutError"}
_DENIED_CLASSES = {"ClientAuthenticationError", "PermissionError", "CredentialUnavailableError"}
_NOT_FOUND_CLASSES = {"FileNotFoundError", "ResourceNotFoundError"}
PROBE_TIMEOUT_S = 5.0
# what Azure says (``x-ms-error-code``) of a container that does not exist: the Blob API's, the DFS API's
CONTAINER_GONE_CODES = ("ContainerNotFound", "FilesystemNotFound")


class Failure(StrEnum):
    NOT_FOUND = "not found"
    CANNOT_CONNECT = "cannot connect"
    ACCESS_DENIED = "access denied"
    OTHER = "failed"


def classify(exc: BaseException) -> Failure:
    """Which of the three a storage exception is (``OTHER`` when it is none of them). A missing container
    is ``NOT_FOUND`` too (an answer, never an outage): ``names_no_container`` tells it apart."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if names & _NOT_FOUND_CLASSES or status == 404:
        return Failure.NOT_FOUND
    if names & _DENIED_CLASSES or status in (401, 403):
        return Failure.ACCESS_DENIED
    if names & _CONNECT_CLASSES or (isinstance(exc, OSError) and exc.errno in _CONNECT_ERRNOS):
        return Failure.CANNOT_CONNECT
    cause = exc.__cause__ or exc.__context__
    return classify(cause) if cause is not None and cause is not exc else Failure.OTHER


def names_no_container(exc: BaseException) -> bool:
    """Whether Azure said, in ``exc`` or what it wraps (its cause, the SDK's ``inner_exception``), that the
    container does not exist: the lean client's ``code``, the SDK's ``error_code``, or the code in the text
    (the SDK's ``ErrorCode:ContainerNotFound``, a transfer's ``HTTP 404 ContainerNotFound``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        said = f"{getattr(current, 'code', '')} {getattr(current, 'error_code', '')} {current}"
        if any(code in said for code in CONTAINER_GONE_CODES):
            return True
        inner = getattr(current, "inner_exception", None)
        current = inner if isinstance(inner, BaseException) else current.__cause__ or current.__context__
    return False


def no_container(container: str, account: str | None, datastore: str | None = None) -> StorageError:
    """The one error for a container that does not exist (Azure answered 404 ``ContainerNotFound``): which
    container, in which account, of which datastore, and the two fixes (create it, or correct the name)."""
    where = f" in the storage account '{account}'" if account else ""
    message = f"the container '{container}' does not exist{where}" + (
        f" (datastore '{datastore}')" if datastore else "")
    create = (f"create the container '{container}'{' in that account' if account else ''} (the Azure portal, "
              "`az storage container create`, or Azure Storage Explorer)")
    if datastore is None:
        return StorageError(message, hint=f"{create}, or correct the container named in the URL")
    fix = (f"{create}, or correct the `container_name` (`filesystem` for ADLS Gen2) of datastore "
           f"'{datastore}' in its YAML and save it again")
    return StorageError(message, hint=f"{fix} (`runner datastore create --file <datastore.yml>`)",
                        python_hint=f"{fix} (`ml_client.datastores.create_or_update(...)`)")


def lacks_container(fs: Any, path: str, exc: BaseException) -> bool:
    """Whether ``path`` was not found on ``fs`` because its container does not exist: what the lean client
    said (``names_no_container``), or, for adlfs' own filesystem (its ``info`` says only "not found"), one
    request for the container (adlfs' ``exists`` of it: Get Container Properties)."""
    if names_no_container(exc):
        return True
    if not any(cls.__name__ == "AzureBlobFileSystem" and cls.__module__.startswith("adlfs")
               for cls in type(fs).__mro__):  # as ``mounts.stores.azure_urls.is_adlfs`` tells it
        return False
    container = _container(path)
    try:
        with warnings.catch_warnings():  # adlfs warns when it cannot ask (no right to): then it says "exists"
            warnings.simplefilter("ignore")
            return container != "" and not fs.exists(container)
    except Exception:  # noqa: BLE001 - the container could not be asked of: the path is just not found
        return False


def _container(path: str) -> str:
    """The container an Azure filesystem's ``path`` names: its first segment."""
    return path.removeprefix("abfs://").removeprefix("az://").strip("/").split("/", 1)[0]


def container_of(fs: Any, path: str) -> tuple[str, str | None]:
    """The container and the account name of ``path`` on an Azure filesystem (adlfs' or
    ``mounts.stores.deferred``'s): the first segment of the path, and the account it is read with."""
    container = _container(path)
    deferred = vars(fs).get("account") if hasattr(fs, "__dict__") else None  # its ``AzureAccount``
    account = getattr(deferred, "account", None) or getattr(fs, "account_name", None)
    return container, account if isinstance(account, str) else None


def storage_error(exc: BaseException, uri: str, *, datastore: str | None = None) -> StorageError:
    """The one error for a failed read of ``uri`` (its cause chained by the caller); ``datastore``: the
    datastore it was read through, named in the hint (None: a URL read as written). Neither the URL nor
    what the service said is shown with a secret in it (``without_secrets``: a SAS, a key, a password)."""
    if (unsigned := bad_key_error(exc, uri, datastore=datastore)) is not None:  # not the service's denial
        return unsigned
    uri = without_secrets(uri)
    detail = without_secrets(str(exc).splitlines()[0])[:200] if str(exc) else type(exc).__name__
    failure = classify(exc)
    if failure is Failure.CANNOT_CONNECT:
        return cannot_connect(uri, detail, datastore=datastore)
    if failure is Failure.ACCESS_DENIED:
        if datastore is None:
            anonymous = ("a URL that no datastore's account and container match is read anonymously, so its "
                         "container must allow public read access; for a private one, register a datastore "
                         "of its account and container, with credentials")
            return StorageError(f"access to '{uri}' was denied by the storage service ({detail})",
                                hint=f"{anonymous} (`runner datastore create --file <datastore.yml>`)",
                                python_hint=f"{anonymous} (`ml_client.datastores.create_or_update("
                                            "load_datastore('<datastore.yml>'))`)")
        return StorageError(f"access to '{uri}' was denied by the storage service ({detail})",
                            hint=f"check the credentials of datastore '{datastore}' "
                                 f"(`runner datastore show --name {datastore}`)",
                            python_hint=f"check the credentials of datastore '{datastore}' "
                                        f"(`ml_client.datastores.get('{datastore}')`)")
    if "LinkNotRead" in {cls.__name__ for cls in type(exc).__mro__}:  # host_cache's (not imported: fsspec)
        return StorageError(f"cannot read '{uri}': {without_secrets(str(exc))}", hint=LINK_HINT)  # whole
    return StorageError(f"cannot read '{uri}': {type(exc).__name__}: {detail}",
                        hint="check the URL and that this machine may read it" if datastore is None else
                        f"check the credentials and endpoint of datastore '{datastore}'")


def written_url_error(exc: BaseException, uri: str, *, azure: bool) -> StorageError:
    """The one error for a URL fsspec reads as written (no datastore holds it: an archive chain's storage,
    ``zip://<member>::abfs://<container>/<archive>``) whose filesystem could not be made or read: what
    ``storage_error`` says, with a hint about what that read uses (``azure``: a link is adlfs', which takes
    its account from the URL or from ``AZURE_STORAGE_*``). A failure ``classify`` cannot tell apart (a
    client that could not be made: adlfs' ``unable to connect to account for ...``) is said as one that
    cannot connect: the account, endpoint or options it was made with are to check."""
    if (unsigned := bad_key_error(exc, uri)) is not None:  # not the service's denial
        return unsigned
    failure = classify(exc)
    if failure is Failure.ACCESS_DENIED:
        hint = AZURE_DENIED_HINT if azure else ("check the credentials its fsspec filesystem reads (its "
                                                "backend's environment variables or fsspec configuration) "
                                                f"{_AS_WRITTEN}")
        return StorageError(storage_error(exc, uri).message, hint=hint)
    if failure is Failure.CANNOT_CONNECT or isinstance(exc, ValueError):
        detail = without_secrets(str(exc).splitlines()[0])[:200] if str(exc) else type(exc).__name__
        hint = AZURE_CONNECT_HINT if azure else (
            "check the URL's host and port, and that the service there is running and reachable from this "
            "machine" if failure is Failure.CANNOT_CONNECT else
            "check the URL's host and the options its fsspec filesystem is made with (its backend's "
            "environment variables or fsspec configuration: an account, an endpoint, credentials)")
        return StorageError(cannot_connect(uri, detail).message,
                            hint=hint if azure else f"{hint} {_AS_WRITTEN}")
    return storage_error(exc, uri)


_AS_WRITTEN = "(no datastore is used for this URL: it is read as written)"
_AZURE_SETTINGS = ("adlfs reads an abfs:// link's account from the URL (abfs://<container>@<account>.dfs.core."
                   "windows.net/<path>) or, when it names none, from AZURE_STORAGE_CONNECTION_STRING (its "
                   "BlobEndpoint= for a custom endpoint such as Azurite) or AZURE_STORAGE_ACCOUNT_NAME")
AZURE_CONNECT_HINT = ("check the URL's host and port, or the account and endpoint it is read with, and that "
                      f"the service there is running and reachable from this machine: {_AZURE_SETTINGS} "
                      f"{_AS_WRITTEN}")
AZURE_DENIED_HINT = ("check the credentials it is read with: adlfs reads AZURE_STORAGE_CONNECTION_STRING, or "
                     "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN; "
                     "with none, it reads anonymously, so the container must allow public read access "
                     f"{_AS_WRITTEN}")


LINK_HINT = ("replace the link with the file or folder it names, or name that file or folder by its real "
             "path (a datastore caching this machine's files follows no link below its folder)")


def unreachable(fs: Any) -> str | None:
    """Why the service behind an Azure filesystem cannot be reached (None when a TCP connection to it
    can be made, or when ``fs`` is not one). A connection attempt tells it without the SDK's requests; a
    refused one is retried as every storage request is (``mounts.retry``: a storage restart is ridden out
    for ``RUNNER_RETRY_TOTAL_S``, from the first request of a fresh process on); a host name that does not
    resolve (a wrong account name) is said after a few quick tries."""
    # a DeferredAzureFileSystem (mounts.stores.deferred) knows its endpoint without making adlfs' client
    account = vars(fs).get("account") if hasattr(fs, "__dict__") else None
    url = getattr(account, "endpoint", None) or getattr(getattr(fs, "service_client", None), "url", None)
    if not isinstance(url, str) or "://" not in url:
        return None
    from runner.workspace.transfers import connect_in_window  # Azure only: transfers' start-up cost

    split = urlsplit(url)
    host, port = split.hostname or "", split.port or (443 if split.scheme == "https" else 80)
    return connect_in_window(host, port, url, PROBE_TIMEOUT_S)


def cannot_connect(uri: str, why: str, *, datastore: str | None = None) -> StorageError:
    """``uri`` cannot be reached (``why``: which host and port, and what the system said). The hint is
    for what the user gave: the datastore it was read through, else the URL itself."""
    message = without_secrets(f"cannot connect to the storage service holding '{uri}' ({why})")
    if datastore is None:
        return StorageError(message, hint="check the URL's host and port, and that the service there is "
                                          "running and reachable from this machine (no datastore is used "
                                          "for this URL: it is read as written)")
    check = (f"check that the service is running and reachable, and the account_url / endpoint of datastore "
             f"'{datastore}'")
    return StorageError(message, hint=f"{check} (`runner datastore show --name {datastore}`)",
                        python_hint=f"{check} (`ml_client.datastores.get('{datastore}')`)")
