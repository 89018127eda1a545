"""Fixtures of the strategy contract suite (see ``strategy_cases.py`` for backends and strategies).

To opt a strategy in, append a ``StrategyCase`` to ``INPUT_CASES`` / ``OUTPUT_CASES`` in
``strategy_cases.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem
from strategy_cases import INPUT_CASES, OUTPUT_CASES, Backend, StrategyCase


def _local_backend(tmp_path: Path, name: str) -> Backend:
    root = tmp_path / "datastore"
    root.mkdir()
    return Backend(name, LocalFileSystem(), str(root), f"file://{root}",
                   local_root=root if name == "local" else None)


# Tests in which a mounting strategy fails before it mounts (nothing for FUSE to do).
MOUNTS_NOTHING = {"test_missing_input_fails_clearly"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``fuse`` exactly the tests that make a FUSE mount: a mounting strategy over a remote store
    (``local`` is a local datastore, which ro_mount binds and rw_mount stages without FUSE)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        case = params.get("input_case") or params.get("output_case")
        if isinstance(case, StrategyCase) and case.mounts and params.get("backend") != "local" \
                and getattr(item, "originalname", item.name) not in MOUNTS_NOTHING:
            item.add_marker(pytest.mark.fuse)


@pytest.fixture(params=["local", "file", "memory", "azure"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param in ("local", "file"):
        yield _local_backend(tmp_path, request.param)
    elif request.param == "memory":
        fs = fsspec.filesystem("memory")
        root = f"/contract-{uuid.uuid4().hex[:12]}"
        yield Backend("memory", fs, root, f"memory://{root}")
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        request.applymarker(pytest.mark.azure)
        container = request.getfixturevalue("azure_container")
        conn = container.azurite.connection_string
        from adlfs import AzureBlobFileSystem

        fs = AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
        yield Backend("azure", fs, container.name, f"abfs://{container.name}",
                      env={"AZURE_STORAGE_CONNECTION_STRING": conn},
                      open_options={"connection_string": conn})


@pytest.fixture(params=INPUT_CASES, ids=str)
def input_case(request: pytest.FixtureRequest) -> StrategyCase:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=OUTPUT_CASES, ids=str)
def output_case(request: pytest.FixtureRequest) -> StrategyCase:
    return request.param  # type: ignore[no-any-return]
