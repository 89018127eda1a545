"""A job's code snapshot follows Azure ML's ignore rule (azure-ai-ml's ``get_ignore_file`` and
``IgnoreFile``): the code folder's own ``.amlignore``, else its ``.gitignore`` (never both, never one in a
subfolder or above the folder), with gitignore patterns matched against each file's path relative to the
code folder, the last matching pattern deciding (``!`` re-includes, inside an excluded folder too). The
ignore file itself stays in the snapshot unless it names itself. ``.git`` and ``__pycache__`` stay left
out, and a runner workspace (``runner.db`` and ``jobs/``) is never copied into a snapshot.

Everything is made in this test's ``tmp_path``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import copy_code
from runner.workspace.code_tree import copy_code_tree
from runner.workspace.jobdir import JobDir
from runner.workspace.snapshot_rules import snapshot_rules


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _snapshot(tmp_path: Path, files: dict[str, str]) -> list[str]:
    """The files (and empty folders, with a trailing /) a job's snapshot of ``files`` holds."""
    source = _tree(tmp_path / "src", files)
    job_dir = JobDir(tmp_path / "ws" / "jobs" / "j1")
    copy_code(str(source), job_dir)
    found = []
    for folder, dirs, names in os.walk(job_dir.code):
        rel = Path(folder).relative_to(job_dir.code).as_posix()
        prefix = "" if rel == "." else rel + "/"
        found += [prefix + name for name in names]
        if not dirs and not names and prefix not in ("outputs/", "logs/"):
            found.append(prefix)
    return sorted(found)


def test_amlignore_leaves_out_what_it_names(tmp_path: Path) -> None:
    assert _snapshot(tmp_path, {
        ".amlignore": "big/\n*.bin\n/root.txt\n# a comment\n\n",
        "train.py": "", "big/blob.txt": "", "big/deep/more.txt": "", "sub/model.bin": "", "a.bin": "",
        "root.txt": "", "sub/root.txt": "", "sub/big/x.txt": "",
    }) == [".amlignore", "sub/root.txt", "train.py"]


def test_amlignore_takes_precedence_over_gitignore(tmp_path: Path) -> None:
    assert _snapshot(tmp_path, {
        ".amlignore": "data/\n", ".gitignore": "*.py\n", "train.py": "", "data/x.csv": "",
    }) == [".amlignore", ".gitignore", "train.py"]  # the .gitignore is not read: train.py stays


def test_gitignore_is_read_when_there_is_no_amlignore(tmp_path: Path) -> None:
    assert _snapshot(tmp_path, {
        ".gitignore": "data/\n*.log\n", "train.py": "", "data/x.csv": "", "run.log": "",
    }) == [".gitignore", "train.py"]


def test_the_last_matching_pattern_decides_and_negation_reincludes(tmp_path: Path) -> None:
    assert _snapshot(tmp_path, {
        ".amlignore": "*.bin\n!keep.bin\ndata/*\n!data/keep.txt\n",
        "a.bin": "", "keep.bin": "", "sub/keep.bin": "", "data/drop.txt": "", "data/keep.txt": "",
    }) == [".amlignore", "data/keep.txt", "keep.bin", "sub/keep.bin"]  # as Azure: file by file


def test_ignore_files_in_subfolders_or_above_are_not_read(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*\n")  # above the code folder: a repository's, not the code's
    assert _snapshot(tmp_path, {
        "sub/.amlignore": "*.txt\n", "sub/.gitignore": "*.txt\n", "sub/a.txt": "", "train.py": "",
    }) == ["sub/.amlignore", "sub/.gitignore", "sub/a.txt", "train.py"]


def test_an_ignore_file_that_names_itself_is_left_out_too(tmp_path: Path) -> None:
    assert _snapshot(tmp_path, {".amlignore": ".amlignore\n", "train.py": ""}) == ["train.py"]


def test_git_and_pycache_stay_left_out_with_or_without_an_ignore_file(tmp_path: Path) -> None:
    files = {".git/HEAD": "", "pkg/__pycache__/m.pyc": "", "pkg/m.py": ""}
    assert _snapshot(tmp_path / "a", files) == ["pkg/m.py"]
    assert _snapshot(tmp_path / "b", {**files, ".amlignore": "*.txt\n"}) == [".amlignore", "pkg/m.py"]


def test_a_runner_workspace_in_the_code_folder_is_never_copied(tmp_path: Path) -> None:
    source = _tree(tmp_path / "repo", {"train.py": "", "ci-ws/runner.db": "", "ci-ws/jobs/old/code/x": "",
                                       "deep/er/ws/runner.db": "", "deep/er/ws/jobs/.keep": "",
                                       "not-ws/jobs/a.txt": "", "not-ws/runner.db.txt": ""})
    target = tmp_path / "copy"
    rules = snapshot_rules(source)
    copy_code_tree(source, target, field="code", ignore=rules)
    assert not (target / "ci-ws").exists() and not (target / "deep" / "er" / "ws").exists()
    assert (target / "not-ws" / "jobs" / "a.txt").exists() and (target / "train.py").exists()
    assert rules.workspaces == ["ci-ws", "deep/er/ws"]


def test_the_workspace_in_use_inside_the_code_folder_is_skipped_not_copied_into_itself(
        tmp_path: Path) -> None:
    repo = _tree(tmp_path / "repo", {"src/main.py": "print(1)\n", ".amlignore": "big/\n",
                                     "big/blob.bin": "x" * 100, "ci-ws/runner.db": ""})
    job_dir = JobDir(repo / "ci-ws" / "jobs" / "j1")
    warnings = copy_code(str(repo), job_dir)
    assert sorted(os.listdir(job_dir.code)) == [".amlignore", "logs", "outputs", "src"]
    assert warnings == [f"the code snapshot leaves out 'ci-ws', a runner workspace inside the code folder "
                        f"{repo}; move the workspace out of the code folder, or add 'ci-ws/' to its "
                        ".amlignore"]


def test_a_folder_that_holds_the_target_is_skipped_without_the_workspace_layout(tmp_path: Path) -> None:
    repo = _tree(tmp_path / "repo", {"train.py": ""})
    job_dir = JobDir(repo / "out" / "jobs" / "j1")  # no runner.db (yet): still never copied into itself
    copy_code(str(repo), job_dir)
    assert sorted(os.listdir(job_dir.code)) == ["logs", "outputs", "train.py"]


@pytest.mark.parametrize("make", ["fifo", "not-utf8", "folder"])
def test_an_ignore_file_that_cannot_be_read_is_one_error_at_code(tmp_path: Path, make: str) -> None:
    source = _tree(tmp_path / "src", {"train.py": ""})
    if make == "fifo":
        os.mkfifo(source / ".amlignore")  # never opened for reading: the test would block
    elif make == "not-utf8":
        (source / ".gitignore").write_bytes(b"caf\xe9/\n")
    else:
        (source / ".amlignore").mkdir()
    with pytest.raises(SpecError) as caught:
        copy_code(str(source), JobDir(tmp_path / "ws" / "jobs" / "j1"))
    err = caught.value
    name = ".gitignore" if make == "not-utf8" else ".amlignore"
    assert err.field == "code"
    assert err.message.startswith(f"cannot read the ignore file '{source / name}': ")
    assert err.hint is not None and name in err.hint
    assert "Traceback" not in err.render()


def test_a_dangling_amlignore_link_falls_back_to_gitignore(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src", {".gitignore": "*.log\n", "a.log": "", "train.py": ""})
    (source / ".amlignore").symlink_to(tmp_path / "src" / "missing")
    rules = snapshot_rules(source)
    assert rules.ignore_file == ".gitignore"
    assert rules(str(source), ["a.log", "train.py"]) == ["a.log"]
