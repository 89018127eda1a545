"""What a job's ``direct`` bindings on an Azure datastore get instead of the datastore's own credentials
(``AzureDatastore.direct_env`` in ``runner.workspace.azure_datastore``): a container SAS made from the
account key, with only the permissions the job's bindings need, or a refusal when the credentials
cannot be narrowed to reading."""

from __future__ import annotations

from pydantic import SecretStr

from runner.errors import StorageError


def connection_parts(connection_string: SecretStr | None) -> dict[str, str]:
    """``Key=Value;...`` of a connection string (values may hold ``=``, as keys and SAS do)."""
    if connection_string is None:
        return {}
    return {key.strip(): value.strip() for key, sep, value in
            (item.partition("=") for item in connection_string.get_secret_value().split(";")) if sep}


def reads_only(sas: str) -> bool:
    """A SAS whose permissions (``sp=``) are reading and listing at most."""
    fields = dict(item.partition("=")[::2] for item in sas.lstrip("?").split("&"))
    return bool(fields.get("sp")) and set(fields["sp"]) <= set("rl")


def container_sas(account: str, container: str, key: str, valid_s: float, *, write: bool) -> str:
    """A SAS for ``container`` only, valid ``valid_s``: read and list, and with ``write`` add, create,
    write and delete."""
    from datetime import UTC, datetime, timedelta

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas  # direct jobs only

    expiry = datetime.now(UTC) + timedelta(seconds=valid_s)
    permission = ContainerSasPermissions(read=True, list=True, add=write, create=write, write=write,
                                         delete=write)
    return generate_container_sas(account, container, account_key=key, expiry=expiry, permission=permission)


def cannot_narrow(name: str, why: str) -> StorageError:
    return StorageError(f"datastore '{name}': a direct input must not be able to write its source, and "
                        f"{why}", hint="use mode: download or ro_mount for this input, or give the "
                                       "datastore an account key (runner then hands the job a read-only "
                                       "SAS) or a read-only SAS token")
