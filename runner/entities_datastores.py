"""azure.ai.ml's datastore entities, as the datastore dict ``ml_client.datastores.create_or_update`` takes
(the YAML's fields); exported by ``runner.entities``.

    store = AzureBlobDatastore(name="blob_example", account_name="acct", container_name="data",
                               credentials=AccountKeyConfiguration(account_key=key))
    ml_client.create_or_update(store)        # or ml_client.datastores.create_or_update(store)

``AzureBlobDatastore`` is ``type: azure_blob``, ``AzureDataLakeGen2Datastore`` ``type: azure_data_lake_gen2``;
runner's ``account_url`` (an emulator's endpoint, such as Azurite's) and ``connection_string`` are taken
too, azure.ai.ml's ``properties`` accepted and not used. A misspelled keyword is one ``SpecError`` when
called; a missing field, the one the dict form gets when created. Their repr and str never show a secret.
"""

from __future__ import annotations

from typing import Any

from runner.entities_credentials import MASK, AnyCredentials, _Credentials
from runner.inputs_outputs import _Entity, _present
from runner.spec.asset import azure_keywords
from runner.url_secrets import without_secrets

_RUNNER_ONLY = ("account_url", "connection_string")  # runner's datastore fields azure.ai.ml has not
_AZURE_ONLY = ("properties", "id", "creation_context", "print_as_yaml")


class _AzureStorageDatastore(_Entity):
    """What both Azure storage datastores share."""

    type = ""
    _container = ""  # the field naming the container: container_name, or filesystem

    def __init__(self, entity: str, *, name: str | None, account_name: str | None,
                 description: str | None, tags: dict[str, str] | None, endpoint: str | None,
                 protocol: str | None, credentials: AnyCredentials | dict[str, Any] | None,
                 kwargs: dict[str, Any]) -> None:
        takes = ("name", "account_name", self._container, "description", "tags", "endpoint", "protocol",
                 "credentials", *_RUNNER_ONLY)
        extra = azure_keywords(entity, kwargs, takes, _AZURE_ONLY)
        self.name, self.account_name, self.description, self.tags = name, account_name, description, tags
        self.endpoint, self.protocol, self.credentials = endpoint, protocol, credentials
        self.account_url: str | None = extra.get("account_url")
        self.connection_string: str | None = extra.get("connection_string")

    def _to_data(self) -> dict[str, Any]:
        credentials = self.credentials._to_data() if isinstance(self.credentials, _Credentials) else \
            self.credentials
        return _present(name=self.name, type=self.type, description=self.description, tags=self.tags,
                        account_name=self.account_name, **{self._container: getattr(self, self._container)},
                        endpoint=self.endpoint, protocol=self.protocol, account_url=self.account_url,
                        credentials=credentials, connection_string=self.connection_string)

    def __repr__(self) -> str:
        data = self._to_data()
        data.pop("credentials", None)
        if self.connection_string is not None:
            data["connection_string"] = MASK
        # a URL field (account_url, endpoint) written with a SAS query or a password: shown without it
        shown = [f"{k}={without_secrets(v) if isinstance(v, str) else v!r}" for k, v in data.items()]
        if self.credentials is not None:
            shown.append(f"credentials={self.credentials!r}" if isinstance(self.credentials, _Credentials)
                         else f"credentials={MASK}")
        return f"{type(self).__name__}({', '.join(shown)})"


class AzureBlobDatastore(_AzureStorageDatastore):
    """A blob container (``type: azure_blob``)."""

    type = "azure_blob"
    _container = "container_name"

    def __init__(self, *, name: str | None = None, account_name: str | None = None,
                 container_name: str | None = None, description: str | None = None,
                 tags: dict[str, str] | None = None, endpoint: str | None = None, protocol: str | None = None,
                 credentials: AnyCredentials | dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.container_name = container_name
        super().__init__("AzureBlobDatastore", name=name, account_name=account_name,
                         description=description, tags=tags, endpoint=endpoint, protocol=protocol,
                         credentials=credentials, kwargs=kwargs)


class AzureDataLakeGen2Datastore(_AzureStorageDatastore):
    """A Data Lake Storage Gen2 filesystem (``type: azure_data_lake_gen2``)."""

    type = "azure_data_lake_gen2"
    _container = "filesystem"

    def __init__(self, *, name: str | None = None, account_name: str | None = None,
                 filesystem: str | None = None, description: str | None = None,
                 tags: dict[str, str] | None = None, endpoint: str | None = None, protocol: str | None = None,
                 credentials: AnyCredentials | dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.filesystem = filesystem
        super().__init__("AzureDataLakeGen2Datastore", name=name, account_name=account_name,
                         description=description, tags=tags, endpoint=endpoint, protocol=protocol,
                         credentials=credentials, kwargs=kwargs)


AnyDatastoreEntity = AzureBlobDatastore | AzureDataLakeGen2Datastore
