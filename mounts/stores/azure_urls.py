"""Which filesystem fsspec makes for an Azure URL (abfs://, az://, abfss://) in this process: adlfs' own,
or, once ``use_retrying_adlfs`` ran, ``mounts.stores.azure_sdk.RetryingAzureBlobFileSystem``, whose Azure SDK
client retries as ``mounts.retry.configure_sdk_retries`` says from the moment it is made (adlfs passes no
retry settings to the client, and fsspec makes it, reading an archive over Azure, before any caller could
configure it). Nothing here imports adlfs or the Azure SDK (~0.5 s): fsspec does, when one is first made.

    use_retrying_adlfs()
    fs, path = fsspec.core.url_to_fs("zip://a.txt::abfs://c/d.zip")   # the abfs link: configured
"""

from __future__ import annotations

AZURE_PROTOCOLS = ("abfs", "az", "abfss")  # adlfs' (fsspec's names for Azure Blob and ADLS Gen2)
RETRYING_ADLFS = "mounts.stores.azure_sdk.RetryingAzureBlobFileSystem"
ADLFS = "adlfs.AzureBlobFileSystem"  # fsspec's entry for them (fsspec.registry.known_implementations)


def use_retrying_adlfs() -> None:
    """From now on, in this process, the adlfs filesystem fsspec makes for an Azure URL (a chain's link
    included) is ``RetryingAzureBlobFileSystem``. A protocol registered to a class other than adlfs' own
    is left alone; one registered by this already stays so."""
    import fsspec
    from fsspec.registry import known_implementations

    for protocol in AZURE_PROTOCOLS:
        current = fsspec.registry.get(protocol)  # a class fsspec imported for it already, if any
        if current is None and known_implementations.get(protocol, {}).get("class") == ADLFS:
            fsspec.register_implementation(protocol, RETRYING_ADLFS, clobber=True)  # imported when needed
        elif current is not None and is_adlfs(current, exactly=True):
            from mounts.stores.azure_sdk import RetryingAzureBlobFileSystem  # adlfs is imported already

            fsspec.register_implementation(protocol, RetryingAzureBlobFileSystem, clobber=True)


def is_adlfs(cls: type, *, exactly: bool = False) -> bool:
    """Whether ``cls`` is adlfs' ``AzureBlobFileSystem`` (``exactly``), or that or a subclass of it (such as
    ``RetryingAzureBlobFileSystem``), told by name: adlfs is not imported for this."""
    return any(c.__name__ == "AzureBlobFileSystem" and c.__module__.startswith("adlfs")
               for c in (cls.__mro__[:1] if exactly else cls.__mro__))
