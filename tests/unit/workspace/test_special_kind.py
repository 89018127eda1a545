"""runner names a special file (no folder, regular file or link) in one set of words, from one function:
a code snapshot's refusal, a Ray package's and a path that resolves to one say the same ("a FIFO", "a
socket", "a character device", "a block device"; "a special file" when the mode says nothing more).
``mounts`` keeps its own (it may not import runner). Everything is made in ``tmp_path``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner.errors import ResolveError, SpecError
from runner.workspace import code_tree, resolve
from runner.workspace.code_tree import check_code_tree, special_kind
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

pytestmark = pytest.mark.timeout(60)  # a FIFO opened would block: fail instead of hanging


def test_runner_has_one_special_kind() -> None:
    assert resolve.special_kind is code_tree.special_kind


@pytest.mark.parametrize(("mode", "words"), [
    (stat.S_IFIFO | 0o644, "a FIFO"),
    (stat.S_IFSOCK | 0o755, "a socket"),
    (stat.S_IFCHR | 0o666, "a character device"),
    (stat.S_IFBLK | 0o660, "a block device"),
    (0, "a special file"),  # a mode that names no kind
    (None, "a special file"),  # a store's info without a mode
])
def test_special_kind_words(mode: int | None, words: str) -> None:
    assert special_kind(mode) == words


def test_a_character_device_on_this_machine() -> None:
    assert special_kind(os.stat("/dev/null").st_mode) == "a character device"


def test_a_resolved_fifo_and_a_fifo_as_code_say_the_same(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ResolveError) as resolved:
        Resolver(Workspace(tmp_path / "ws")).resolve(str(fifo))
    assert f"'{fifo}' is a FIFO, not a file or folder" in resolved.value.message
    with pytest.raises(SpecError) as as_code:
        check_code_tree(fifo, field="code")
    assert f"'{fifo}' is a FIFO, not a folder or a file" in as_code.value.message
