"""``ml_client.jobs.download(name, output_name=..., all=True)`` downloads that output only, as azure.ai.ml's
``JobOperations.download`` does (its ``elif output_name`` comes before ``elif all``); ``all=True`` alone
downloads the artifacts and every named output. A local-process job in this test's tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, Output, command


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_output_name_wins_over_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ml_client = MLClient(workspace_dir=tmp_path / "ws")
    job = command(command="echo m > ${{outputs.model}}/m.txt && echo x > ${{outputs.metrics}}/x.txt",
                  outputs={"model": Output(type="uri_folder"), "metrics": Output(type="uri_folder")},
                  environment="does-not-matter:1", compute="local-process")
    name = ml_client.jobs.create_or_update(job).name
    ml_client.jobs.stream(name, echo=lambda _chunk: None)
    ml_client.jobs.download(name, download_path=tmp_path / "one", output_name="metrics", all=True)
    assert _files(tmp_path / "one") == ["named-outputs/metrics/x.txt"]
    ml_client.jobs.download(name, download_path=tmp_path / "all", all=True)
    every = _files(tmp_path / "all")
    assert {"named-outputs/metrics/x.txt", "named-outputs/model/m.txt"} <= set(every)
    assert any(f.startswith("artifacts/") for f in every)
