"""azure.ai.ml's identity and credential entities (its ``entities/_credentials.py`` names), as the data
runner's YAML forms take; exported by ``runner.entities``.

    command(..., identity=UserIdentityConfiguration())   # = identity={"type": "user_identity"}
    AzureBlobDatastore(..., credentials=AccountKeyConfiguration(account_key=key))   # = {account_key: key}

A job's identity (``UserIdentityConfiguration``, ``ManagedIdentityConfiguration``, ``AmlTokenConfiguration``)
is accepted and ignored as the YAML's ``identity:`` is (the job uses the workspace's datastore credentials).
A datastore's credentials (``AccountKeyConfiguration``, ``SasTokenConfiguration``,
``ServicePrincipalConfiguration``) carry secrets: their repr and str show ``***`` for them, never the value.
"""

from __future__ import annotations

from typing import Any

from runner.inputs_outputs import _Entity, _present
from runner.spec.asset import azure_keywords

MASK = "***"  # what a repr shows for a secret (as ``runner datastore show`` does)


class _Identity(_Entity):
    """A job's ``identity:`` (its ``type`` and the fields given)."""

    type = ""

    def _to_data(self) -> dict[str, Any]:
        return {"type": self.type}


class UserIdentityConfiguration(_Identity):
    """``identity: {type: user_identity}``: accepted and ignored here."""

    type = "user_identity"


class AmlTokenConfiguration(_Identity):
    """``identity: {type: aml_token}``: accepted and ignored here."""

    type = "aml_token"


class ManagedIdentityConfiguration(_Identity):
    """``identity: {type: managed, client_id/object_id/resource_id}``: accepted and ignored here."""

    type = "managed"

    def __init__(self, *, client_id: str | None = None, resource_id: str | None = None,
                 object_id: str | None = None, principal_id: str | None = None) -> None:
        self.client_id, self.resource_id = client_id, resource_id
        self.object_id, self.principal_id = object_id, principal_id

    def _to_data(self) -> dict[str, Any]:
        return {"type": self.type, **_present(client_id=self.client_id, object_id=self.object_id,
                                              resource_id=self.resource_id, principal_id=self.principal_id)}


class _Credentials(_Entity):
    """A datastore's ``credentials:``; the fields in ``_SECRET`` are masked in its repr."""

    _SECRET: tuple[str, ...] = ()

    def __repr__(self) -> str:
        data = self._to_data()
        shown = ", ".join(f"{k}={MASK if k in self._SECRET else v!r}" for k, v in data.items())
        return f"{type(self).__name__}({shown})"


class AccountKeyConfiguration(_Credentials):
    """``credentials: {account_key: ...}`` (the storage account's key, base64)."""

    type = "account_key"
    _SECRET = ("account_key",)

    def __init__(self, *, account_key: str) -> None:
        self.account_key = account_key

    def _to_data(self) -> dict[str, Any]:
        return {"account_key": self.account_key}


class SasTokenConfiguration(_Credentials):
    """``credentials: {sas_token: ...}``."""

    type = "sas"
    _SECRET = ("sas_token",)

    def __init__(self, *, sas_token: str) -> None:
        self.sas_token = sas_token

    def _to_data(self) -> dict[str, Any]:
        return {"sas_token": self.sas_token}


class ServicePrincipalConfiguration(_Credentials):
    """``credentials: {tenant_id, client_id, client_secret}``; azure.ai.ml's ``authority_url`` and
    ``resource_url`` are accepted and not used (the storage SDK's defaults)."""

    type = "service_principal"
    _SECRET = ("client_secret",)

    def __init__(self, *, client_secret: str, tenant_id: str | None = None, client_id: str | None = None,
                 **kwargs: Any) -> None:
        azure_keywords("ServicePrincipalConfiguration", kwargs, ("client_secret", "tenant_id", "client_id"),
                       ("authority_url", "resource_url"))
        self.client_secret, self.tenant_id, self.client_id = client_secret, tenant_id, client_id

    def _to_data(self) -> dict[str, Any]:
        return _present(tenant_id=self.tenant_id, client_id=self.client_id, client_secret=self.client_secret)


AnyCredentials = AccountKeyConfiguration | SasTokenConfiguration | ServicePrincipalConfiguration
