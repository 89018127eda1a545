"""``RetryingAzureBlobFileSystem``: adlfs' ``AzureBlobFileSystem`` whose Azure SDK client retries as
``mounts.retry.configure_sdk_retries`` says from the moment it is made.

adlfs passes no retry settings to the SDK client it makes, and fsspec makes that client for an Azure URL
(``url_to_fs``, a chain's link: an archive over Azure is read while its filesystem is made) before any
caller could configure it: ``mounts.stores.azure_urls.use_retrying_adlfs`` has fsspec make this class
instead. It is adlfs' in all else (the lean client signs for it as for adlfs': ``azure_account``).
Importing this module imports adlfs and the Azure SDK (~0.5 s): only when one is made.
"""

from __future__ import annotations

from adlfs import AzureBlobFileSystem

from mounts.retry import configure_sdk_retries


class RetryingAzureBlobFileSystem(AzureBlobFileSystem):
    """adlfs' filesystem, its SDK client configured as it is made (and made again)."""

    def do_connect(self) -> None:
        super().do_connect()
        configure_sdk_retries(self)
