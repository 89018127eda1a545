"""A job with secrets in its ``environment_variables`` (a connection string's account key, a SAS URL, a
``*_TOKEN``): its page ``/jobs/<name>``, ``/api/jobs/<name>`` and the list ``/api/jobs`` show ``***`` and
never a value, while the job (a real host process) got them: it prints each value's digest, never the
value."""

from __future__ import annotations

import hashlib
import re

from ui_support import Browserless, LiveUI, submit_job, wait_for

CONN = ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=UISECRETkey0461==;"
        "EndpointSuffix=core.windows.net")
SAS = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=UISECRETSIG0462"
TOKEN = "hf_UISECRETTOKEN0463"
SECRETS = ("UISECRETkey0461", "UISECRETSIG0462", "UISECRETTOKEN0463")


def test_the_page_and_the_api_show_no_secret(live_ui: LiveUI) -> None:
    client = live_ui.client
    submit_job(client, live_ui.workspace.parent / "jobs-yaml", "senv", f"""
        command: printf %s "$CONN$SAS$HF_TOKEN" | sha256sum
        environment_variables:
          CONN: "{CONN}"
          SAS: "{SAS}"
          HF_TOKEN: {TOKEN}
        """)
    assert wait_for(client, "senv", {"Completed", "Failed"}).status.value == "Completed"
    log = (live_ui.workspace / "jobs" / "senv" / "user_logs" / "std_log.txt").read_text()
    assert hashlib.sha256((CONN + SAS + TOKEN).encode()).hexdigest() in log  # the job got the real values
    web = Browserless(live_ui.address)
    view = web.json("/api/jobs/senv")
    assert re.search(r"CONN += +\*\*\*", view["plan"])
    assert any("look like secrets" in w for w in view["warnings"])
    status, page = web.get("/jobs/senv")
    assert status == 200
    shown = [page, str(view), str(web.json("/api/jobs"))]
    assert not [s for s in SECRETS for text in shown if s in text]
