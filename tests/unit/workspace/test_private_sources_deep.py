"""The walks of ``runner.workspace.private_sources`` go deeper than Python's recursion limit (1,200 levels)
with no recursion: a secret nested that deep in the workspace's secrets folder is still known by its
identity (a hard link to it is refused), and ``walk_followed`` (the web UI's form check) lists a deep
tree, follows its links to folders once each (a link loop ends) and finds a link out deep down.

Everything is made in this test's ``tmp_path`` and removed by it with no recursion; the link out is only
compared, never followed into."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deep_tree_support import DEEP, deep_scratch, make_chain

from runner.client import MLClient
from runner.errors import RunnerError, SpecError
from runner.spec.model import Model
from runner.ui.sources import check_form_source
from runner.workspace.private_sources import walk_followed


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield from deep_scratch(tmp_path)


def test_a_hard_link_to_a_secret_nested_deep_in_the_secrets_folder_is_refused(scratch: Path) -> None:
    ml = MLClient(workspace_dir=scratch / "ws")
    secret = make_chain(Path(ml.workspace.secrets_dir) / "nested", data=b"s3cr3t\n") / "f.txt"
    source = scratch / "model"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"weights\n")
    os.link(secret, source / "copy-of-secret")
    with pytest.raises(RunnerError) as caught:
        ml.models.create_or_update(Model(name="m", path=str(source)))
    err = caught.value
    assert err.field == "path" and "the workspace's secrets" in err.message, err.render()
    assert "copy-of-secret" in err.message and "s3cr3t" not in err.render()


def test_walk_followed_lists_a_deep_tree_and_ends_a_link_loop(scratch: Path) -> None:
    top = scratch / "t"
    deepest = make_chain(top)
    (deepest / "loop").symlink_to(top)  # back to the top: followed once, then not again
    walked = list(walk_followed(top))
    assert walked[0] == top and len(walked) == len(set(walked))
    assert deepest / "f.txt" in walked and deepest / "loop" in walked
    assert len(walked) == 1 + DEEP + 2  # the top, each folder, the file and the link, once each


def test_the_form_check_finds_a_link_out_deep_down(scratch: Path) -> None:
    served, outside = scratch / "served", scratch / "outside"
    outside.mkdir()
    deepest = make_chain(served / "model")
    (deepest / "out").symlink_to(outside)
    with pytest.raises(SpecError) as caught:
        check_form_source("model", served)
    assert "a link that leads out of the folder the UI serves" in caught.value.message
    assert str(deepest / "out") in caught.value.message and os.listdir(outside) == []
