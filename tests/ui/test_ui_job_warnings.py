"""A job's page (and ``/api/jobs/<name>``) shows every warning its record holds: the plan's, then what its
outputs could not keep, each once, as ``runner job show`` lists them. Such a warning names files the job
chose, so it is text, never markup: a name like ``<img src=x onerror=...>`` is shown escaped. The jobs run
as host processes in the test's throwaway workspace; the FIFO they make is never opened."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from ui_support import Browserless, LiveUI, submit_job, wait_for

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding, RunPlan
from runner.workspace.db import JobRecord, JobStatus, utcnow

PLAN = "job.yml:3: resources.instance_count=2 is ignored (one container runs)"
IMG = "<img src=x onerror=alert(1)>"
CELL = '</td></tr></table><script>alert("x")</script>'
LEFT = f"outputs.u: 2 entries not uploaded: {IMG} (a FIFO), {CELL} (a FIFO)"


def _plan(job_dir: Path, warnings: tuple[str, ...]) -> RunPlan:
    out = Binding("u", Direction.OUTPUT, AssetType.URI_FOLDER, Mode.UPLOAD,
                  "azureml://datastores/workspaceblobstore/paths/u", PathKind.FOLDER, f"{job_dir}/outputs/u",
                  "/mnt/runner/outputs/u", "/mnt/runner/outputs/u", f"{job_dir}/outputs/u")
    base = RunPlan(job_name="w", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="true", host_command="true", env={}, code_dir=f"{job_dir}/code",
                   working_dir="/mnt/runner/code", inputs=(), outputs=(out,), literals={}, timeout_s=None)
    return replace(base, warnings=warnings)


def _warnings_shown(page: str) -> str:
    match = re.search(r'<ul id="job-warnings"[^>]*>(.*?)</ul>', page, re.S)
    assert match, page[:2000]
    return match[1]


def test_the_page_shows_the_plans_and_the_outputs_warnings_escaped(live_ui: LiveUI) -> None:
    ws = live_ui.client.workspace
    job_dir = ws.job_dir("w").root
    plan = _plan(job_dir, (PLAN,))
    ws.create_job(JobRecord(name="w", status=JobStatus.COMPLETED, created_at=utcnow(), job_dir=str(job_dir),
                            extra={"plan": json.loads(json.dumps(plan.to_dict())), "warnings": [PLAN, LEFT]}))
    web = Browserless(live_ui.address)
    assert web.json("/api/jobs/w")["warnings"] == [PLAN, LEFT]  # the plan's first, each once
    status, page = web.get("/jobs/w")
    assert status == 200
    assert IMG not in page and "<script>alert" not in page and "</td></tr></table><script>" not in page
    shown = _warnings_shown(page)
    assert shown.count("<li") == 2 and PLAN in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown
    status, fragment = web.get("/jobs/w/overview")  # what htmx swaps in when the status changes
    assert status == 200 and _warnings_shown(fragment) == shown


def test_a_record_without_a_plan_shows_its_warnings_and_one_without_any_shows_none(live_ui: LiveUI) -> None:
    ws = live_ui.client.workspace
    for name, extra in (("bare", {"warnings": [LEFT]}), ("clean", {})):
        ws.create_job(JobRecord(name=name, status=JobStatus.FAILED, created_at=utcnow(), extra=extra,
                                job_dir=str(ws.job_dir(name).root)))
    web = Browserless(live_ui.address)
    assert web.json("/api/jobs/bare")["warnings"] == [LEFT]
    assert IMG not in web.get("/jobs/bare")[1]
    assert "&lt;img src=x onerror=alert(1)&gt;" in _warnings_shown(web.get("/jobs/bare")[1])
    assert web.json("/api/jobs/clean")["warnings"] == []
    assert 'id="job-warnings"' not in web.get("/jobs/clean")[1]


def test_a_job_whose_output_holds_a_hostile_fifo_shows_it_escaped(live_ui: LiveUI, tmp_path: Path) -> None:
    client = live_ui.client
    submit_job(client, tmp_path / "job", "hostile", """
        command: mkfifo '${{outputs.u}}/<img src=x onerror=alert(1)>' && echo ok > ${{outputs.u}}/ok.txt
        outputs:
          u: {type: uri_folder, mode: upload}
        resources: {instance_count: 2}
        """)
    job = wait_for(client, "hostile", {"Completed", "Failed", "Canceled"})
    assert job.status.value == "Completed", job.error
    web = Browserless(live_ui.address)
    warnings = web.json("/api/jobs/hostile")["warnings"]
    assert warnings[0].endswith(": resources.instance_count=2 runs as 1 instance locally")  # the plan's
    [left] = [w for w in warnings if w.startswith("outputs.u: ")]
    assert f"{IMG} (a FIFO)" in left and warnings.index(left) == len(warnings) - 1
    status, page = web.get("/jobs/hostile")
    assert status == 200 and IMG not in page
    assert "&lt;img src=x onerror=alert(1)&gt; (a FIFO)" in _warnings_shown(page)
