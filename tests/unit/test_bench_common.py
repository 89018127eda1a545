"""Pure helpers of the transfer/mount benchmarks (bench/common.py): targets, table, RESULTS.md sections."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import common  # noqa: E402
from bench.common import DataSet, Row, fmt, render_table, write_section  # noqa: E402


def test_ratio_targets_compare_the_ratio() -> None:
    assert Row("x", 120.0, 100.0, "MB/s", ">= 1.2x").met() == "yes"
    assert Row("x", 119.0, 100.0, "MB/s", ">= 1.2x").met() == "NO"


def test_absolute_targets_compare_our_figure() -> None:
    assert Row("first byte", 49.0, 18.0, "ms", "<= 50 ms").met() == "yes"
    assert Row("rss", 301.0, 200.0, "MB", "<= 300 MB").met() == "NO"
    assert Row("cpu", 9.0, 8.0, "s", "-").met() == "-"


def test_table_without_a_baseline_shows_dashes() -> None:
    table = render_table([Row("cached repeat", 0.000873, float("nan"), "s", "<= 1 s")])
    assert "| cached repeat | 0.000873 s | - | - | <= 1 s | yes |" in table
    assert fmt(1234.5) == "1234" and fmt(8.123) == "8.12"


def test_data_set_labels() -> None:
    assert DataSet("large", 1, 1 << 30).label() == "1024 MiB"
    assert DataSet("small", 2000, 64 * 1024).label() == "2000 x 64 KiB"


def test_write_section_replaces_only_its_own_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Trivial job\n\nkeep me\n\n## ro_mount (x)\n\nold\n")
    monkeypatch.setattr(common, "RESULTS", results)
    write_section("ro_mount (x)", "new figures")
    write_section("Findings", "1. something")
    text = results.read_text()
    assert "keep me" in text and "old" not in text
    assert text.index("## ro_mount (x)") < text.index("new figures") < text.index("## Findings")


def test_rclone_elapsed_is_read_from_its_last_stats_line() -> None:
    stderr = ('{"level":"warning","msg":"Config file not found","time":"t"}\n'
              '{"level":"warning","msg":"\\nTransferred: 1 / 1",'
              '"stats":{"bytes":5,"elapsedTime":0.155719914}}\n')
    assert common.rclone_elapsed(stderr) == pytest.approx(0.155719914)
    with pytest.raises(RuntimeError, match="no stats"):
        common.rclone_elapsed("plain text, no JSON stats")


def test_rotated_puts_each_tool_first_in_turn() -> None:
    tools = ("ours", "ours-nomd5", "rclone")
    firsts = [common.rotated(tools, run)[0] for run in range(6)]
    assert firsts == ["ours", "ours-nomd5", "rclone"] * 2
    assert all(sorted(common.rotated(tools, run)) == sorted(tools) for run in range(6))


def test_check_tree_refuses_other_bytes_and_missing_or_extra_files(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "a.bin").write_bytes(b"a" * 1000)
    (source / "sub" / "b.bin").write_bytes(b"b")
    expected = common.Digests(tmp_path).of(DataSet("source", 2, 1))
    copy = tmp_path / "copy"
    (copy / "sub").mkdir(parents=True)
    (copy / "a.bin").write_bytes(b"a" * 1000)
    (copy / "sub" / "b.bin").write_bytes(b"b")
    common.check_tree(copy, expected, "copy")  # the same bytes: no error
    (copy / "a.bin").write_bytes(b"a" * 999 + b"x")  # same size, one byte off
    with pytest.raises(RuntimeError, match=r"different \['a.bin'\]"):
        common.check_tree(copy, expected, "copy")
    (copy / "a.bin").write_bytes(b"a" * 1000)
    (copy / "extra").write_bytes(b"")
    (copy / "sub" / "b.bin").unlink()
    with pytest.raises(RuntimeError, match=r"missing \['sub/b.bin'\], extra \['extra'\]"):
        common.check_tree(copy, expected, "copy")


def test_memory_limit_sizes_parse() -> None:
    from bench.memory_limit import parse_size

    assert parse_size("3G") == 3 << 30 and parse_size("512M") == 512 << 20 and parse_size("1.5GiB") == 3 << 29
    assert parse_size("1048576") == 1 << 20
    with pytest.raises(ValueError, match="not a size"):
        parse_size("three")
