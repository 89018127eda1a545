"""A file name that is not valid UTF-8 (``os.fsdecode`` gives its undecodable bytes as lone surrogates)
never breaks a job's record: every text the record holds shows such a byte as a visible escape
(``bad\\xffname``), so the record serializes, round-trips through the workspace and prints. A failed
upload of such a name to a store that names blobs in UTF-8 says why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mounts.errors import TransferFailed
from mounts.transfer.state import FailureLog
from runner.errors import TransferError
from runner.workspace.db import Workspace
from runner.workspace.job_records import JobRecord, JobStatus, visible_text
from runner.workspace.transfers import translated

BAD = os.fsdecode(b"bad\xffname")  # 'bad\udcffname'
SHOWN = "bad\\xffname"


def test_the_name_os_fsdecode_gives_is_shown_with_its_byte_escaped() -> None:
    assert BAD == "bad\udcffname"
    assert visible_text(BAD) == SHOWN
    assert visible_text(os.fsdecode(b"\x80\xfe/x")) == "\\x80\\xfe/x"


def test_a_surrogate_that_stands_for_no_byte_is_shown_as_itself() -> None:
    assert visible_text("a\ud800b\udfffc") == "a\\ud800b\\udfffc"


def test_valid_text_is_left_as_it_is() -> None:
    for text in ("plain", "é ü ß", "日本語", "🚀 emoji", "back\\slash", "tab\tnew\nline", ""):
        assert visible_text(text) == text


def test_every_text_field_of_a_record_is_made_safe_nested_keys_too() -> None:
    record = JobRecord(name="j", display_name=f"d {BAD}", error=f"could not upload {BAD}",
                       spec={"command": f"echo > {BAD}", "list": [BAD, [BAD, 1]]},
                       inputs={"i": f"/data/{BAD}"}, outputs={"o": f"azureml://x/{BAD}"},
                       extra={"warnings": [f"outputs.o: {BAD}"], "held_back_outputs": {BAD: f"/s/{BAD}"},
                              "n": 3, "none": None, "flag": True},
                       job_dir=f"/ws/{BAD}")
    assert record.display_name == f"d {SHOWN}" and record.error == f"could not upload {SHOWN}"
    assert record.spec == {"command": f"echo > {SHOWN}", "list": [SHOWN, [SHOWN, 1]]}
    assert record.inputs == {"i": f"/data/{SHOWN}"} and record.outputs["o"] == f"azureml://x/{SHOWN}"
    assert record.extra == {"warnings": [f"outputs.o: {SHOWN}"], "held_back_outputs": {SHOWN: f"/s/{SHOWN}"},
                            "n": 3, "none": None, "flag": True}
    assert record.job_dir == f"/ws/{SHOWN}"
    again = JobRecord.model_validate_json(record.model_dump_json())
    assert again == record


def test_an_assigned_field_is_made_safe_too() -> None:
    record = JobRecord(name="j")
    record.error = f"x {BAD}"
    record.extra = {"w": [BAD]}
    assert record.error == f"x {SHOWN}" and record.extra == {"w": [SHOWN]}
    record.model_dump_json()  # does not raise


def test_the_workspace_stores_and_reads_such_a_record(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="j", extra={"warnings": [BAD]}))
    ended = ws.update_job("j", ending=True, status=JobStatus.FAILED,
                          error=f"outputs could not be made durable: {BAD}; kept in /s/{BAD}",
                          extra={"warnings": [BAD], "held_back_outputs": {"o": f"/s/{BAD}"}})
    assert ended.error == f"outputs could not be made durable: {SHOWN}; kept in /s/{SHOWN}"
    stored = ws.get_job("j")
    assert stored == ended and stored.extra["held_back_outputs"] == {"o": f"/s/{SHOWN}"}
    assert [job.name for job in ws.list_jobs()] == ["j"]


def _upload_failure(rel: str, total: int) -> TransferFailed:
    """The ``TransferFailed`` the uploader raises when a store encodes a blob's name in UTF-8."""
    failures = FailureLog()
    try:
        f"o/u/{rel}".encode()
    except UnicodeEncodeError as exc:
        failures.record(rel, exc)
    try:
        failures.raise_if_any("uploaded", total)
    except TransferFailed as exc:
        staged = Path(f"/ws/jobs/j/outputs/u-{BAD}")
        return TransferFailed(f"output abfs://c/o/u: {exc}; the staged data is kept in {staged}",
                              failed=exc.failed, staged=staged, hint=exc.hint)
    raise AssertionError("no failure raised")


def test_an_upload_that_failed_on_such_a_name_says_blob_names_must_be_utf8() -> None:
    with pytest.raises(TransferError) as caught, translated("output 'u' (upload to azureml://x)"):
        raise _upload_failure(BAD, 2)
    err = caught.value
    rendered = err.render()
    assert "surrogates not allowed" not in rendered and "UnicodeEncodeError" not in rendered
    assert "bad\\xffname: its name is not valid UTF-8" in rendered
    assert "not valid UTF-8, and the datastore names files in UTF-8 (Azure Blob Storage" in rendered
    assert "rename" in (err.hint or "") and "valid UTF-8" in (err.hint or "")
    assert err.failed == [BAD]  # the file itself, as the job's folder holds it
    record = JobRecord(name="j", status=JobStatus.FAILED, error=rendered)
    assert f"staged data kept at: /ws/jobs/j/outputs/u-{SHOWN}" in (record.error or "")
    record.model_dump_json()


def test_another_upload_failure_keeps_its_own_words() -> None:
    exc = TransferFailed("output abfs://c/o/u: 1 of 1 file(s) could not be uploaded (ok.txt: "
                         "ConnectionError: down); the staged data is kept in /s", failed=["ok.txt"],
                         staged=Path("/s"))
    with pytest.raises(TransferError) as caught, translated("output 'u'"):
        raise exc
    assert "UTF-8" not in caught.value.render() and "ConnectionError: down" in caught.value.message
