"""``runner compute create --file`` of Azure's compute YAML (``type: amlcompute`` or ``computeinstance``, its
``$schema``, ``size``, ``min_instances``...) does what ``ml_client.compute.begin_create_or_update`` does
with the entity (runner.client_compute): exit 0, nothing recorded, one note on stderr that a job naming it
runs on this machine, in the CLI's words (the command that registers a Ray cluster, not the Python call);
``compute show`` of the name then says it is unknown, as before. A Ray compute registered under the name
stays. A misspelled field is one error at its line (exit 2). Each the real CLI in its own process, its
workspace in tmp_path; nothing runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli

AML = """\
$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: cpu-cluster
type: amlcompute
size: STANDARD_DS3_v2
min_instances: 0
max_instances: 4
idle_time_before_scale_down: 180
tier: dedicated
location: westeurope
description: the team's CPU nodes
tags: {team: ml}
"""
INSTANCE = """\
$schema: https://azuremlschemas.azureedge.net/latest/computeInstance.schema.json
name: cpu-cluster
type: computeinstance
size: STANDARD_DS3_v2
idle_time_before_shutdown_minutes: 30
"""


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


@pytest.mark.parametrize("text", [AML, INSTANCE], ids=["amlcompute", "computeinstance"])
def test_azure_compute_yaml_is_taken_and_records_nothing(tmp_path: Path, text: str) -> None:
    ws = tmp_path / "ws"
    spec = tmp_path / "cluster.yml"
    spec.write_text(text)
    ws.mkdir()  # a workspace (no note that one was made)
    result = cli(ws, "compute", "create", "--file", str(spec))
    assert result.returncode == 0, result.stderr
    [note] = _warnings(result.stderr)
    assert "'cpu-cluster' is an Azure compute, which is not created here" in note, note
    assert "compute 'cpu-cluster' is not registered in this workspace, so " in note, note
    assert "runs on this machine" in note, note
    assert "`runner compute show --name cpu-cluster` still finds none" in note, note
    assert "`runner compute create --name cpu-cluster --type ray --address http://<head>:8265`" in note, note
    assert "ml_client" not in note, note
    assert result.stderr.strip() == note, result.stderr  # the one note, nothing else
    shown = json.loads(result.stdout)
    kind = text.split("type: ")[1].split()[0]
    assert (shown["name"], shown["type"], shown["size"]) == ("cpu-cluster", kind, "STANDARD_DS3_v2"), shown
    assert "$schema" not in shown, shown
    listed = cli(ws, "compute", "list", "-o", "json", check=True)
    assert json.loads(listed.stdout) == []  # nothing recorded
    missing = cli(ws, "compute", "show", "--name", "cpu-cluster")
    assert missing.returncode == 1 and "unknown compute 'cpu-cluster'" in missing.stderr, missing.stderr


def test_a_ray_compute_of_that_name_stays(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli(ws, "compute", "create", "--name", "cpu-cluster", "--type", "ray", "--address", "http://127.0.0.2:9",
        check=True)
    before = cli(ws, "compute", "list", "-o", "json", check=True).stdout
    spec = tmp_path / "cluster.yml"
    spec.write_text(AML)
    result = cli(ws, "compute", "create", "--file", str(spec))
    assert result.returncode == 0, result.stderr
    [note] = _warnings(result.stderr)
    assert "not created here" in note and "the Ray compute 'cpu-cluster' registered in this workspace " \
        "stays, and a job naming it runs there (http://127.0.0.2:9)" in note, note
    assert cli(ws, "compute", "list", "-o", "json", check=True).stdout == before


@pytest.mark.parametrize(("change", "field", "said"), [
    (("size:", "sizee:"), "sizee", "unknown field 'sizee'"),
    (("name: cpu-cluster\n", ""), "name", "a compute needs a name"),
])
def test_a_bad_azure_compute_yaml_is_one_error_at_its_line(tmp_path: Path, change: tuple[str, str],
                                                          field: str, said: str) -> None:
    spec = tmp_path / "cluster.yml"
    spec.write_text(AML.replace(*change))
    result = cli(tmp_path / "ws", "compute", "create", "--file", str(spec))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("error:") == 1 and said in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {spec}:"), result.stderr
    assert f": {field}: " in result.stderr.splitlines()[0], result.stderr
    assert "Traceback" not in result.stderr and "()" not in result.stderr, result.stderr
