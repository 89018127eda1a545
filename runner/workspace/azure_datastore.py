"""The Azure datastore kinds (``azure_blob``, ``azure_data_lake_gen2``) as a typed config: the container,
the endpoint (Azure's storage suffix, or ``account_url`` for an emulator), the credentials (an account key,
a SAS token, a service principal, a connection string, or none), the adlfs filesystem they open, and what
a ``direct`` job gets (``direct_env``: a container SAS; ``env_for_direct``: adlfs' ``AZURE_STORAGE_*``).
The other kinds and the union of all are ``runner.workspace.datastore_kinds``'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from runner.errors import SpecError, StorageError
from runner.spec.validation import runner_error
from runner.workspace.account_keys import AccountKey, ConnectionString
from runner.workspace.azure_sas import cannot_narrow, connection_parts, container_sas, reads_only
from runner.workspace.datastore_base import DatastoreBase
from runner.workspace.datastore_urls import without_secret_query

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem  # imported by ``open``: planning a job needs no filesystem


class AzureCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # its validator: at first use (as below)

    account_key: AccountKey | None = None  # base64
    sas_token: SecretStr | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None


class AzureDatastore(DatastoreBase):
    model_config = ConfigDict(defer_build=True)  # its validator: at first use (a job on the default: none)
    type: Literal["azure_blob", "azure_data_lake_gen2"]
    account_name: str | None = None
    container_name: str | None = None
    filesystem: str | None = None  # azure_data_lake_gen2's name for the container
    endpoint: str = "core.windows.net"
    protocol: str = "https"
    account_url: str | None = Field(default=None, alias="blob_endpoint")
    credentials: AzureCredentials | None = None
    connection_string: ConnectionString | None = None

    def direct_env(self, *, write: bool = False, valid_s: float = 24 * 3600) -> dict[str, str]:
        """What a job's ``direct`` bindings on this datastore get: credentials for this container only.

        With an account key (given, or in the connection string), a container SAS valid ``valid_s`` (see
        ``sas_validity``): read and list when no direct binding of the job writes here (``write``), else read,
        add, create, write, delete and list. The account key itself never reaches a job. A SAS given
        with the datastore is passed on (for reading only when it grants nothing more); no credentials
        (public access) stay none. A service principal cannot be narrowed: passed on for writing,
        refused (``StorageError``) for reading."""
        creds = self.credentials or AzureCredentials()
        key = creds.account_key.get_secret_value() if creds.account_key else None
        parts = connection_parts(self.connection_string)
        key = key or parts.get("AccountKey")
        account = self.account_name or parts.get("AccountName")
        endpoint = self.direct_endpoint()
        sas = creds.sas_token.get_secret_value() if creds.sas_token else parts.get("SharedAccessSignature")
        if key and account:
            sas = container_sas(account, self.container, key, valid_s, write=write)
        elif sas is not None and not write and not reads_only(sas):
            raise cannot_narrow(self.name, "its SAS token can write")
        elif sas is None and (creds.client_secret or parts):
            if not write:
                raise cannot_narrow(self.name, "its credentials can write")
            return self.env_for_direct()
        env = {"AZURE_STORAGE_ACCOUNT_NAME": account} if account else {}
        if sas is not None and endpoint:
            env.update(AZURE_STORAGE_SAS_TOKEN=sas.lstrip("?"), AZURE_STORAGE_BLOB_ENDPOINT=endpoint,
                       AZURE_STORAGE_CONNECTION_STRING=f"BlobEndpoint={endpoint};"
                                                       f"SharedAccessSignature={sas.lstrip('?')}")
        return env

    def direct_endpoint(self) -> str | None:
        """The blob endpoint ``direct_env`` names (no secret: ``runner.workspace.store_endpoints``)."""
        parts = connection_parts(self.connection_string)
        account = self.account_name or parts.get("AccountName")
        return self._blob_endpoint() or parts.get("BlobEndpoint") or (
            f"https://{account}.blob.core.windows.net" if account else None)

    def location(self, workspace_root: Path) -> str:
        """Where the root physically is: the account and the container (see ``LocalDatastore``)."""
        parts = connection_parts(self.connection_string)
        account = self.account_name or parts.get("AccountName") or parts.get("BlobEndpoint", "").rstrip("/")
        return f"azure://{account or self._blob_endpoint() or ''}/{self.container}"

    @field_validator("account_url")
    @classmethod
    def _no_query(cls, value: str | None) -> str | None:
        return without_secret_query(value, "account_url")

    @field_validator("endpoint")
    @classmethod
    def _storage_suffix(cls, value: str) -> str:
        """Azure's ``endpoint`` is the storage suffix the account's host ends with, never a URL."""
        if "://" in value or "/" in value or ":" in value or not value.strip("."):
            raise runner_error(f"endpoint must be a storage suffix such as core.windows.net, not {value!r}",
                               "for a full endpoint (an emulator such as Azurite) use account_url: "
                               "http://127.0.0.1:10000/<account>, and leave endpoint out")
        return value

    @property
    def container(self) -> str:
        name = self.container_name or self.filesystem
        if not name:
            gen2 = self.type == "azure_data_lake_gen2"
            field = "filesystem" if gen2 else "container_name"
            raise SpecError(f"datastore '{self.name}' ({self.type}) has no {field}: an Azure "
                            f"{'Data Lake Gen2' if gen2 else 'Blob'} datastore is one "
                            f"{'filesystem' if gen2 else 'container'} of its storage account",
                            field=field, hint=f"add {field}: <its name> (3-63 lowercase letters, digits and "
                                              "'-') and create the datastore again")
        return name

    def check_complete(self) -> None:
        """What Azure requires before a datastore is saved: the container (``SpecError`` naming it)."""
        _ = self.container

    def _blob_endpoint(self) -> str | None:
        if self.account_url:
            return self.account_url.rstrip("/")
        if self.account_name and (self.endpoint != "core.windows.net" or self.protocol != "https"):
            return f"{self.protocol}://{self.account_name}.blob.{self.endpoint}"
        return None

    def _effective_connection_string(self, *, own: bool = False) -> str | None:
        """A connection string when one is given or needed (custom endpoint with a key or SAS); ``own``:
        for a key or SAS on Azure's own endpoint too, which adlfs then reads as it is (it takes
        ``AZURE_STORAGE_CONNECTION_STRING`` over an ``account_key`` or ``sas_token`` it is given)."""
        if self.connection_string:
            return self.connection_string.get_secret_value()
        endpoint = self._blob_endpoint()
        if own and not endpoint and self.account_name:
            endpoint = f"{self.protocol}://{self.account_name}.blob.{self.endpoint}"
        creds = self.credentials
        if not endpoint or not creds:
            return None
        if creds.account_key:
            protocol = endpoint.split("://", 1)[0]
            return (f"DefaultEndpointsProtocol={protocol};AccountName={self.account_name};"
                    f"AccountKey={creds.account_key.get_secret_value()};BlobEndpoint={endpoint};")
        if creds.sas_token:
            return f"BlobEndpoint={endpoint};SharedAccessSignature={creds.sas_token.get_secret_value()}"
        return None

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for ``adlfs.AzureBlobFileSystem`` (contains secrets: never log): a key or SAS
        of its own always as a connection string, so the lean client and adlfs read the same account."""
        conn = self._effective_connection_string(own=True)
        if conn:
            return {"connection_string": conn, "account_name": self.account_name}
        options: dict[str, Any] = {"account_name": self.account_name}
        endpoint = self._blob_endpoint()
        if endpoint:
            options["account_host"] = endpoint.split("://", 1)[-1]
        creds = self.credentials or AzureCredentials()
        if creds.account_key:
            options["account_key"] = creds.account_key.get_secret_value()
        elif creds.sas_token:
            options["sas_token"] = creds.sas_token.get_secret_value()
        elif creds.client_id and creds.client_secret:
            options.update(client_id=creds.client_id, tenant_id=creds.tenant_id,
                           client_secret=creds.client_secret.get_secret_value())
        else:
            options["anon"] = False  # DefaultAzureCredential
        return options

    def open(self, workspace_root: Path) -> tuple[AbstractFileSystem, str]:
        if not self.account_name and not self.connection_string:
            raise SpecError(f"datastore '{self.name}' needs account_name (or connection_string)",
                            field="account_name", hint="set account_name: <storage account>")
        from runner.workspace.transfers import azure_filesystem  # only with Azure: start-up cost

        options = self.storage_options()
        return azure_filesystem(options, lambda: self._adlfs(options)), self.container

    def _adlfs(self, options: dict[str, Any]) -> AbstractFileSystem:
        from runner.workspace.transfers import retry_like_transfers, retrying_adlfs  # only with Azure: slow

        retry_like_transfers()  # a bad RUNNER_RETRY_TOTAL_S said before the filesystem reads it
        try:  # adlfs' with the transfers' retries, made again once the AZURE_STORAGE_* it reads change
            fs = retrying_adlfs(options)
        except ImportError as exc:
            raise StorageError("Azure datastores need the 'adlfs' package",
                               hint="pip install adlfs") from exc
        except Exception as exc:  # adlfs raises ValueError & azure errors for bad settings
            raise StorageError(f"cannot connect datastore '{self.name}': {type(exc).__name__}",
                               hint="check account_name, account_url and credentials "
                                    f"(`runner datastore show --name {self.name}`)",
                               python_hint="check account_name, account_url and credentials "
                                           f"(`ml_client.datastores.get('{self.name}')`)") from exc
        return fs

    def url_for(self, fs_path: str) -> str:
        return "abfs://" + fs_path

    def env_for_direct(self) -> dict[str, str]:
        env: dict[str, str] = {}
        if self.account_name:
            env["AZURE_STORAGE_ACCOUNT_NAME"] = self.account_name
        endpoint = self._blob_endpoint()
        if endpoint:
            env["AZURE_STORAGE_BLOB_ENDPOINT"] = endpoint
        conn = self._effective_connection_string()
        if conn:
            env["AZURE_STORAGE_CONNECTION_STRING"] = conn
        creds = self.credentials or AzureCredentials()
        if creds.account_key:
            env["AZURE_STORAGE_ACCOUNT_KEY"] = creds.account_key.get_secret_value()
        if creds.sas_token:
            env["AZURE_STORAGE_SAS_TOKEN"] = creds.sas_token.get_secret_value()
        if creds.client_id and creds.client_secret:
            env.update(AZURE_STORAGE_CLIENT_ID=creds.client_id,
                       AZURE_STORAGE_CLIENT_SECRET=creds.client_secret.get_secret_value())
            if creds.tenant_id:
                env["AZURE_STORAGE_TENANT_ID"] = creds.tenant_id
        return env
