"""A job's artifacts on a local datastore (written in place, or staged and moved in) live in
``runner.jobs.local_artifacts``; ``runner.jobs.materialize`` still offers ``move_artifacts_in`` (job
recovery imports it from there), the same function."""

from __future__ import annotations

from pathlib import Path

from runner.jobs import local_artifacts, materialize


def test_move_artifacts_in_is_one_function_offered_where_it_was() -> None:
    assert materialize.move_artifacts_in is local_artifacts.move_artifacts_in


def test_holds_files_looks_below_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert not local_artifacts.holds_files(tmp_path)
    (tmp_path / "a" / "b" / "f.txt").write_text("x")
    assert local_artifacts.holds_files(tmp_path)
    assert not local_artifacts.holds_files(tmp_path / "missing")
