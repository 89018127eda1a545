"""How long the SAS a job's ``direct`` bindings get stays valid (``runner.jobs.direct_creds.sas_validity``):
``limits.timeout`` plus a margin when the job has one (at most a week), a day without one (never the week
it was before). The expiry is read from the ``se=`` of a real SAS made from an account key, for a direct
input (read-only) and a direct output (writing) alike; nothing is contacted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import pytest

from runner.jobs.direct_creds import (
    DEFAULT_SAS_S,
    MAX_SAS_S,
    SAS_MARGIN_S,
    sas_validity,
    with_direct_credentials,
)
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.workspace.datastore_kinds import datastore_from_dict
from runner.workspace.datastores import DatastoreStore
from runner.workspace.resolved import ResolvedPath

KEY = "a2V5LW9uZQ=="  # base64, as an account key must be
DAY = 24 * 3600


def test_the_validity_is_the_timeout_and_a_margin_else_a_day() -> None:
    assert DEFAULT_SAS_S == DAY
    assert sas_validity(None) == DAY and sas_validity(0) == DAY
    assert sas_validity(600) == 600 + SAS_MARGIN_S
    assert sas_validity(3 * DAY) == 3 * DAY + SAS_MARGIN_S  # a long job's timeout is longer than the default
    assert sas_validity(30 * DAY) == MAX_SAS_S == 7 * DAY  # never more than a week


class _Store:
    def __init__(self) -> None:
        self.datastore = datastore_from_dict({"name": "az", "type": "azure_blob", "container_name": "c",
                                              "account_name": "acct", "credentials": {"account_key": KEY}})

    def get(self, name: str) -> Any:
        return self.datastore


def _binding(name: str, direction: Direction) -> Binding:
    where = f"/mnt/runner/{direction.value}s/{name}"
    return Binding(name=name, direction=direction, type=AssetType.URI_FOLDER, mode=Mode.DIRECT,
                   uri=f"azureml://datastores/az/paths/{name}", kind=PathKind.FOLDER, host_path=where,
                   container_path=where, value=where, host_value=where)


def _remote(name: str) -> ResolvedPath:
    return ResolvedPath(uri=f"azureml://datastores/az/paths/{name}", fs=cast(Any, object()), path=f"c/{name}",
                        url=f"abfs://c/{name}", kind=PathKind.FOLDER, datastore="az")


def _expiry(env: Any) -> datetime:
    found = {unquote(m) for m in re.findall(r"(?:^|[?&])se=([^&;]+)", env["AZURE_STORAGE_SAS_TOKEN"])}
    assert len(found) == 1, found
    return datetime.fromisoformat(found.pop().replace("Z", "+00:00"))


@pytest.mark.parametrize(("timeout_s", "valid_s"), [(None, DAY), (600.0, 600 + SAS_MARGIN_S)])
@pytest.mark.parametrize("direction", [Direction.INPUT, Direction.OUTPUT])
def test_a_direct_binding_sas_expires_when_its_validity_ends(tmp_path: Path, direction: Direction,
                                                             timeout_s: float | None, valid_s: float) -> None:
    binding, resolved = (_binding("d", direction),), {"d": _remote("d")}
    pair = with_direct_credentials(binding if direction is Direction.INPUT else (),
                                   binding if direction is Direction.OUTPUT else (),
                                   resolved if direction is Direction.INPUT else {},
                                   resolved if direction is Direction.OUTPUT else {},
                                   cast(DatastoreStore, _Store()), timeout_s=timeout_s)
    found = pair[0 if direction is Direction.INPUT else 1]["d"]
    before = datetime.now(UTC)
    expiry = _expiry(found.env)  # made now, when first read
    after = datetime.now(UTC)
    assert before + timedelta(seconds=valid_s - 2) <= expiry <= after + timedelta(seconds=valid_s), expiry
