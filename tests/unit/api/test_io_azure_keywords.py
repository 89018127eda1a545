"""``Input(...)`` and ``Output(...)`` take the keywords azure-ai-ml's take, so ported scripts keep
working: ``intellectual_property`` on both, ``early_available``, ``is_control`` and ``path_on_compute`` on
``Output`` (none of them has a local meaning: the job is built and runs as without them); a misspelled
keyword is one ``SpecError`` at the call naming it and the close known one, never silently dropped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from runner import Input, Output, command
from runner.errors import SpecError

IP = {"publisher": "Contoso", "protection_level": "all"}


def _job(inputs: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None) -> Any:
    return command(command="echo hi", environment="python:3.11", inputs=inputs or {}, outputs=outputs or {})


@pytest.mark.parametrize("output", [
    pytest.param(lambda: Output(type="uri_folder", early_available=True), id="early_available"),
    pytest.param(lambda: Output(type="uri_folder", is_control=True), id="is_control"),
    pytest.param(lambda: Output(type="uri_folder", path_on_compute="/mnt/out"), id="path_on_compute"),
    pytest.param(lambda: Output(type="uri_folder", intellectual_property=IP), id="intellectual_property"),
    pytest.param(lambda: Output(type="custom_model", mode="upload", name="m", version="1",
                                description="d", early_available=False, is_control=False,
                                path_on_compute="/mnt/out", intellectual_property=IP), id="all"),
])
def test_an_output_takes_azures_keywords(output: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    made = output()  # type: ignore[operator]
    job = _job(outputs={"o": made})
    spec = job.outputs["o"]._to_data()  # type: ignore[attr-defined]
    assert set(spec) <= {"type", "path", "mode", "name", "version", "description"}
    _job(outputs={"o": job.outputs["o"]})  # built again from it: still fine
    assert "no local meaning" in caplog.text or "path_on_compute" in caplog.text


def test_an_outputs_azure_attributes_read_as_given() -> None:
    out = Output(type="uri_folder", early_available=True, path_on_compute="/mnt/out")
    assert (out.early_available, out.path_on_compute) == (True, "/mnt/out")
    assert Output(type="uri_folder", early_available=True) == Output(type="uri_folder")


@pytest.mark.parametrize("made", [
    pytest.param(lambda: Input(type="uri_folder", path="data", intellectual_property=IP), id="asset"),
    pytest.param(lambda: Input(type="string", default="x", intellectual_property=IP), id="literal"),
])
def test_an_input_takes_intellectual_property(made: object) -> None:
    job = _job(inputs={"i": made()})  # type: ignore[operator]
    assert "intellectual_property" not in job.inputs["i"]._to_data()  # type: ignore[attr-defined]


def test_a_job_with_those_keywords_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runner import MLClient

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    job = command(command="ls ${{inputs.i}} > ${{outputs.o}}/x", environment="python:3.11",
                  inputs={"i": Input(type="uri_folder", path="data", intellectual_property=IP)},
                  outputs={"o": Output(type="uri_folder", early_available=True, is_control=False,
                                       intellectual_property=IP)})
    result = MLClient(workspace_dir=tmp_path / "ws").jobs.validate(job)
    assert result.passed, result.error_messages


@pytest.mark.parametrize(("make", "word", "close"), [
    (lambda: Output(type="uri_folder", early_avaliable=True), "early_avaliable", "early_available"),
    (lambda: Output(type="uri_folder", is_contrl=True), "is_contrl", "is_control"),
    (lambda: Output(type="uri_folder", descripton="d"), "descripton", "description"),
    (lambda: Output(type="uri_folder", intelectual_property=IP), "intelectual_property",
     "intellectual_property"),
    (lambda: Input(type="uri_folder", path="x", intelectual_property=IP), "intelectual_property",
     "intellectual_property"),
    (lambda: Input(type="uri_folder", pth="x"), "pth", "path"),
    (lambda: Input(type="integer", defualt=3), "defualt", "default"),
])
def test_a_misspelled_keyword_is_one_error_naming_it(make: object, word: str, close: str) -> None:
    with pytest.raises(SpecError) as raised:
        make()  # type: ignore[operator]
    err = raised.value
    assert f"'{word}'" in err.message and f"did you mean '{close}'" in err.message, err.render()
    assert err.field == word and err.hint and "Traceback" not in err.render()


def test_an_unknown_keyword_with_nothing_close_lists_the_known_ones() -> None:
    with pytest.raises(SpecError) as raised:
        Output(type="uri_folder", colour="red")
    assert "'colour'" in raised.value.message and "early_available" in (raised.value.hint or "")
