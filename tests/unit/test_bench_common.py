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
