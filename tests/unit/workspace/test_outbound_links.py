"""Which links below a local datastore a job may read through (``runner.workspace.outbound_links``).

Every link here is made by the test in its own tmp folder and points at a decoy folder there; nothing
is followed out of it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.workspace.datastores import DatastoreStore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.outbound_links import local_root, outbound_link
from runner.workspace.read_refusals import refuse_private_read
from runner.workspace.resolve import Resolver


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    (tmp_path / "ds" / "shared" / "data").mkdir(parents=True)
    (tmp_path / "decoy").mkdir()
    (tmp_path / "decoy" / "secret.txt").write_text("decoy\n")
    return tmp_path / "ds"


def test_a_link_out_of_the_datastore_is_found_with_its_place_and_target(store: Path) -> None:
    decoy = store.parent / "decoy"
    os.symlink(decoy, store / "shared" / "x")
    found = outbound_link(str(store / "shared" / "x" / "secret.txt"), {"ds": local_root(str(store))})
    assert found is not None
    assert (found.place, found.target, found.leads_to) == (str(store / "shared" / "x"), str(decoy),
                                                           str(decoy))
    assert (found.datastore, found.root) == ("ds", str(store))


def test_a_relative_link_up_and_out_is_found(store: Path) -> None:
    os.symlink("../../decoy", store / "shared" / "up")
    found = outbound_link(str(store / "shared" / "up"), {"ds": local_root(str(store))})
    assert found is not None and found.leads_to == str(store.parent / "decoy")


def test_links_that_stay_inside_the_datastore_are_followed(store: Path) -> None:
    os.symlink("data", store / "shared" / "alias")
    os.symlink(store / "shared", store / "abs-alias")
    roots = {"ds": local_root(str(store))}
    assert outbound_link(str(store / "shared" / "alias"), roots) is None
    assert outbound_link(str(store / "abs-alias" / "alias"), roots) is None


def test_a_datastore_whose_root_is_a_link_keeps_working(store: Path) -> None:
    elsewhere = store.parent / "disk2"
    (elsewhere / "data").mkdir(parents=True)
    os.symlink(elsewhere, store / "mounted")  # a second datastore's root, configured as this link
    roots = {"ds": local_root(str(store)), "disk": local_root(str(store / "mounted"))}
    assert outbound_link(str(store / "mounted" / "data"), roots) is None
    os.symlink(elsewhere, store.parent / "ds-link")  # a root that is a link, reached through it
    linked = {"ds": local_root(str(store.parent / "ds-link"))}
    assert outbound_link(str(store.parent / "ds-link" / "data"), linked) is None


def test_a_link_into_another_datastore_leaves_this_one(store: Path) -> None:
    other = store.parent / "other"
    other.mkdir()
    os.symlink(other, store / "shared" / "to-other")
    roots = {"ds": local_root(str(store)), "other": local_root(str(other))}
    found = outbound_link(str(store / "shared" / "to-other"), roots)
    assert found is not None and found.datastore == "ds"


def test_the_innermost_datastore_judges_a_link(store: Path) -> None:
    inner = store / "shared"
    os.symlink("../other-place", inner / "out-of-inner")
    (store / "other-place").mkdir()
    roots = {"ds": local_root(str(store)), "inner": local_root(str(inner))}
    found = outbound_link(str(inner / "out-of-inner"), roots)
    assert found is not None and found.datastore == "inner"


def test_paths_outside_every_datastore_and_missing_names_are_not_judged(store: Path) -> None:
    decoy = store.parent / "decoy"
    os.symlink(decoy, store.parent / "user-link")  # the user's own link, in no datastore
    roots = {"ds": local_root(str(store))}
    assert outbound_link(str(store.parent / "user-link" / "secret.txt"), roots) is None
    assert outbound_link(str(store / "shared" / "missing" / "x"), roots) is None


def test_a_link_out_of_a_local_datastore_is_refused_as_an_input(tmp_path: Path, store: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    DatastoreStore(ws).save(LocalDatastore(name="team", path=str(store)))
    os.symlink(store.parent / "decoy", store / "shared" / "x")
    resolved = Resolver(ws).resolve("azureml://datastores/team/paths/shared/x", check=False)
    with pytest.raises(SpecError) as refused:
        refuse_private_read(ws, "data", resolved)
    err = refused.value
    assert err.field == "inputs.data.path"
    assert f"the link {store}/shared/x -> {store.parent / 'decoy'}" in err.message
    assert "leads out of local datastore 'team'" in err.message
    assert "input 'data' cannot be read" in err.message
    assert err.hint is not None and "remove the link" in err.hint
    ok = Resolver(ws).resolve("azureml://datastores/team/paths/shared/data", check=False)
    refuse_private_read(ws, "data", ok)  # no link: read as ever
