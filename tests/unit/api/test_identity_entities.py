"""azure.ai.ml's job identities import from ``runner.entities`` (``UserIdentityConfiguration``,
``ManagedIdentityConfiguration``, ``AmlTokenConfiguration``) and a job takes them as it takes the dict form
(``identity={"type": "user_identity"}``): the same spec, the same "identity is ignored" warning (the job
uses the workspace's datastore credentials here). Nothing runs."""

from __future__ import annotations

import pytest

from runner import Input, command
from runner.constants import AssetTypes


def _job(identity: object) -> object:
    return command(
        command="head -1 ${{inputs.iris}}",
        inputs={"iris": Input(type=AssetTypes.URI_FILE, path="azureml:iris-file:1")},
        environment="runner/busybox:latest",
        identity=identity,
    )


@pytest.mark.parametrize(("make", "as_dict"), [
    ("UserIdentityConfiguration()", {"type": "user_identity"}),
    ("AmlTokenConfiguration()", {"type": "aml_token"}),
    ("ManagedIdentityConfiguration(client_id='c-1')", {"type": "managed", "client_id": "c-1"}),
])
def test_an_identity_object_is_the_dict_form(make: str, as_dict: dict[str, str]) -> None:
    from runner import entities

    identity = eval(make, vars(entities))  # noqa: S307 - the call as the Azure user writes it
    job = _job(identity)
    assert job.identity == as_dict  # type: ignore[attr-defined]
    assert job == _job(as_dict)
    assert identity.type == as_dict["type"]
    assert any("identity is ignored" in w for w in job.warnings), job.warnings  # type: ignore[attr-defined]


def test_set_on_a_built_job_as_azure_users_do() -> None:
    from runner.entities import ManagedIdentityConfiguration, UserIdentityConfiguration

    job = _job(None)
    job.identity = UserIdentityConfiguration()  # type: ignore[attr-defined]
    assert job.identity == {"type": "user_identity"}  # type: ignore[attr-defined]
    job.identity = ManagedIdentityConfiguration(resource_id="/subscriptions/s/x")  # type: ignore[attr-defined]
    assert job.identity == {"type": "managed", "resource_id": "/subscriptions/s/x"}  # type: ignore[attr-defined]
