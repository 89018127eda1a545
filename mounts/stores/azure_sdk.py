"""``RetryingAzureBlobFileSystem``: adlfs' ``AzureBlobFileSystem`` whose Azure SDK client retries as
``mounts.retry.configure_sdk_retries`` says from the moment it is made.

adlfs passes no retry settings to the SDK client it makes, and fsspec makes that client for an Azure URL
(``url_to_fs``, a chain's link: an archive over Azure is read while its filesystem is made) before any
caller could configure it: the runner hands fsspec its Azure links under runner-only protocol names that
fsspec makes this class for (``mounts.stores.azure_urls``). It is adlfs' in all else: its ``protocol`` is
adlfs' (its paths' URLs say ``abfs://``, ``FSSPEC_ABFS`` configures it), it reads a runner-only name's URL
as the adlfs one, and the lean client signs for it as for adlfs' (``azure_account``). fsspec's instance
cache keys it by the ``AZURE_STORAGE_*`` and ``AZURE_CLIENT_*`` (& co) variables in force too
(``azure_urls.env_credentials_digest``): made again once they change, so a long-lived process reads the
account and identity they name now. A service principal
it is given (``client_id``, ``client_secret``) is what it signs with, whatever ``AZURE_STORAGE_*`` say.
Importing this module imports adlfs and the Azure SDK (~0.5 s): only when one is made.
"""

from __future__ import annotations

from typing import Any

from adlfs import AzureBlobFileSystem
from fsspec.spec import _Cached

from mounts.retry import configure_sdk_retries
from mounts.stores.azure_urls import adlfs_url, env_credentials_digest


class _KeyedByEnvironment(_Cached):
    """fsspec's metaclass, which keys each instance with the class's ``_extra_tokenize_attributes`` read
    as it is called: this one reads the environment's credentials then (a property of the class)."""

    @property
    def _env_credentials(cls) -> str:
        return env_credentials_digest()


class RetryingAzureBlobFileSystem(AzureBlobFileSystem, metaclass=_KeyedByEnvironment):
    """adlfs' filesystem, its SDK client configured as it is made (and made again); one per constructor
    arguments and ``AZURE_STORAGE_*``, ``AZURE_CLIENT_*`` credentials in force."""

    _extra_tokenize_attributes = (*AzureBlobFileSystem._extra_tokenize_attributes, "_env_credentials")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # a service principal given (a datastore's own) is what it signs with: adlfs would take a connection
        # string, key or SAS from ``AZURE_STORAGE_*`` over it (__init__ reads them, do_connect prefers them)
        self._own_principal = bool(kwargs.get("client_id") and kwargs.get("client_secret")) and not any(
            kwargs.get(name) for name in ("connection_string", "account_key", "sas_token", "credential"))
        super().__init__(*args, **kwargs)

    def do_connect(self) -> None:
        if self._own_principal:
            self.connection_string = self.account_key = self.sas_token = None  # what it was not given
            if getattr(self, "credential", None) is None:  # adlfs made none: a variable's key (& co) won
                self.credential, self.sync_credential = self._get_credential_from_service_principal()
        super().do_connect()
        configure_sdk_retries(self)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return super()._strip_protocol(adlfs_url(path) if isinstance(path, str) else path)

    @staticmethod
    def _get_kwargs_from_urls(urlpath: str) -> dict[str, Any]:
        return dict(AzureBlobFileSystem._get_kwargs_from_urls(adlfs_url(urlpath)))
