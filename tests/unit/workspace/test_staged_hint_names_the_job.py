"""What a failed upload's error says to do with the staged data it kept (``runner.workspace.transfers``
``translated`` / ``staged_hint``): the job's own ``runner job finalize --name <its name>`` (never a
placeholder) when the data is kept in this workspace; on a Ray node, where the data stays on the node and
that verb refuses the job, where it is and what to do instead, in the words of the verb's own refusal;
with no job, no verb. The job's outputs (``OutputSet``) pass their job's name and node on. Pure: the
transfer's failure is raised by hand."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mounts.errors import TransferFailed
from runner.errors import JobError, TransferError
from runner.jobs.finalize_later import _refuse_on_node
from runner.jobs.materialize import OutputSet
from runner.workspace.db import JobRecord, JobStatus
from runner.workspace.transfers import staged_hint, translated


def failed_upload(staged: Path, **where: Any) -> TransferError:
    with pytest.raises(TransferError) as caught, translated("output 'o' (upload to az://c/o)", **where):
        raise TransferFailed("1 of 2 file(s) could not be uploaded", ["a.txt"], staged=staged, total=2)
    return caught.value


def test_kept_here_the_hint_names_the_jobs_own_finalize(tmp_path: Path) -> None:
    err = failed_upload(tmp_path / "o", job="train-7")
    assert err.hint is not None and "`runner job finalize --name train-7` uploads it" in err.hint
    assert "<job>" not in err.render() and f"staged data kept at: {tmp_path / 'o'}" in err.render()


def test_on_a_ray_node_the_hint_names_the_node_and_never_the_verb_that_refuses_it(tmp_path: Path) -> None:
    err = failed_upload(tmp_path / "o", job="train-7", node="worker-3")
    hint = err.hint or ""
    assert "runner job finalize --name" not in err.render() and "<job>" not in err.render()
    assert "kept on Ray node worker-3" in hint and "`runner job finalize` cannot upload it" in hint
    assert "on that node, copy it from the staging folder to the output's path" in hint
    # the same advice as the verb's own refusal of that job's output
    record = JobRecord(name="train-7", status=JobStatus.FAILED)
    with pytest.raises(JobError) as refused:
        _refuse_on_node(record, "o", "worker-3")
    for words in ("with the storage's own tools", "run the job again", "Ray node worker-3"):
        assert words in hint and words in refused.value.render(), words


def test_without_a_job_no_verb_is_named(tmp_path: Path) -> None:
    hint = failed_upload(tmp_path / "o").hint or ""
    assert "finalize" not in hint and "copy it from the staging folder" in hint and hint == staged_hint()


class _FailingUpload(AbstractContextManager[Any]):
    def __init__(self, staged: Path) -> None:
        self.staged = staged

    def __exit__(self, *exc: Any) -> None:
        raise TransferFailed("2 file(s) could not be uploaded", ["a", "b"], staged=self.staged)


@pytest.mark.parametrize(("node", "said"), [(None, "`runner job finalize --name j1` uploads it"),
                                            ("n1", "kept on Ray node n1")])
def test_a_jobs_outputs_pass_its_name_and_node_on(tmp_path: Path, node: str | None, said: str) -> None:
    outputs = OutputSet(job="j1", node=node)
    binding = SimpleNamespace(name="o", mode=SimpleNamespace(value="upload"), uri="az://c/o")
    outputs._close_one(binding, _FailingUpload(tmp_path), upload=True)  # type: ignore[arg-type]
    assert said in (outputs.errors["o"].hint or ""), outputs.errors["o"].hint
