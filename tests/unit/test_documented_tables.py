"""The tables the code holds in its docstrings and the docs quote, each checked against what the code
does and, where the seed has the table, against the seed's table written out in ``tests/documented.py``:

- the seed's "Supported paths": every example parses into the kind of reference its location names;
- ``runner/uris.py``'s path-format table and its error hint (``_FORMATS``): every form parses as stated;
- ``runner/workspace/resolve.py``'s table: every reference form is the kind of reference it resolves;
- ``runner/spec/expressions.py``'s table: every expression renders to what its row says;
- every "Location | Example" table in README.md and docs/: every example parses, into the seed's kind
  where the seed lists the same form.

(The supported-modes matrix and the default modes: ``test_modes.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from documented import (
    SEED_PATH_KINDS,
    SEED_PATHS_TABLE,
    fill_placeholders,
    markdown_tables,
    parse_paths_table,
)
from repo_paths import REPO

import runner.spec.expressions as expressions
import runner.uris as uris
import runner.workspace.resolve as resolve
from runner.errors import SpecError
from runner.spec.expressions import render_command
from runner.uris import parse_path

SEED_PATHS = parse_paths_table(SEED_PATHS_TABLE)


def _kind(text: str) -> str:
    return type(parse_path(fill_placeholders(text))).__name__


@pytest.mark.parametrize(("location", "example"), SEED_PATHS, ids=[loc for loc, _ in SEED_PATHS])
def test_every_seed_path_parses_into_its_locations_kind(location: str, example: str) -> None:
    assert _kind(example) == SEED_PATH_KINDS[location]


def test_the_seeds_mlflow_run_path_is_the_jobs_artifacts() -> None:
    """The seed: ``runs:/<run-id>/model/`` "is equivalent to" ``azureml://jobs/<run-id>/outputs/artifacts/paths/model/``."""
    assert parse_path("runs:/r1/model/") == parse_path("azureml://jobs/r1/outputs/artifacts/paths/model/")


def _docstring_table(doc: str | None) -> list[list[str]]:
    """The rows (cells) of the first pipe table in a module docstring."""
    tables = markdown_tables(doc or "")
    assert tables, "the module docstring has no table"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in tables[0][2:]]


def _examples(cell: str) -> list[str]:
    return re.findall(r"``([^`]+)``", cell)


def _concrete(example: str) -> str:
    """A parseable instance of a written form: placeholders filled, elided segments and bare schemes
    given a value, an optional ``[/paths/<p>]`` tail taken."""
    text = example.replace("[", "").replace("]", "")
    # the table elides the ARM path: subscriptions/../workspaces/.. is subscriptions/<s>/resourceGroups/
    # <rg>/workspaces/<ws>
    text = text.replace("subscriptions/../", "subscriptions/s/resourceGroups/rg/").replace("/../", "/x/")
    text = fill_placeholders(text)
    if text.endswith("://"):
        text += "container/path"
    return text


URIS_ROWS = _docstring_table(uris.__doc__)


@pytest.mark.parametrize("row", URIS_ROWS, ids=[r[1] for r in URIS_ROWS])
def test_uris_table_rows_parse_as_stated(row: list[str]) -> None:
    written, parsed_as = row
    stated = _examples(parsed_as)[0]
    forms = _examples(written)
    assert forms, row
    for form in forms:
        assert type(parse_path(_concrete(form))).__name__ == stated, (form, stated)


def test_uris_table_covers_every_seed_location() -> None:
    stated = {_examples(row[1])[0] for row in URIS_ROWS}
    assert set(SEED_PATH_KINDS.values()) <= stated


def test_the_format_hint_names_only_forms_that_parse() -> None:
    """The hint a malformed path gets (``_FORMATS``) lists forms that all parse."""
    hint = uris._FORMATS  # noqa: SLF001 - the text shown to users
    forms = re.findall(r"(?:azureml:|runs:)\S+?(?=,|$| or )", hint)
    assert len(forms) >= 6, hint
    for form in forms:
        parse_path(_concrete(form.rstrip(",")))  # raises SpecError if the hint lied
    with pytest.raises(SpecError) as info:
        parse_path("azureml:")
    assert hint in (info.value.hint or "")


RESOLVE_ROUTES = {  # what each row's "resolves through" names -> the reference type that takes that route
    "the host filesystem": "LocalPath",
    "the datastore's filesystem": "DatastorePath",
    "the job record": "JobOutputPath",
    "the model registry": "ModelRef",
    "fsspec": "FsspecUrl",
    "the data assets": "ModelRef",  # a data asset's azureml:<name>:<version>: the same parsed reference
    "that account+container's datastore": "StorageUrl",
}


def test_resolve_table_rows_are_the_references_they_describe() -> None:
    rows = _docstring_table(resolve.__doc__)
    routes = {kind for _, route in rows for words, kind in RESOLVE_ROUTES.items() if route.startswith(words)}
    assert routes == set(RESOLVE_ROUTES.values()) and len(rows) >= len(RESOLVE_ROUTES)
    short = {"@latest": "azureml:m@latest", "runs:/": "runs:/run-1/model"}  # abbreviated in the table
    data_row = "the same, for a data asset (uri_file, uri_folder, mltable)"
    plain = {"local relative / absolute / file://": ["model/dir", "/abs/model", "file:///abs/model"],
             data_row: ["azureml:d:1", "azureml:d@latest"]}
    for reference, route in rows:
        expected = next(kind for words, kind in RESOLVE_ROUTES.items() if route.startswith(words))
        forms = [short.get(form, form) for form in _examples(reference)] or plain[reference]
        for form in forms:
            assert type(parse_path(_concrete(form))).__name__ == expected, (form, route)


# what each written expression means, as this test reads the table's words
INPUTS = {"x": "/in/x", "lr": "0.1"}
OUTPUTS = {"x": "/out/x"}
EXPRESSION_MEANINGS = {
    "${{inputs.x}}": "/in/x",
    "${{ inputs.x }}": "/in/x",
    "${{outputs.x}}": "/out/x",
    "$<<inputs.x>>": "/in/x",
    "$<<outputs.x>>": "/out/x",
    "$[[ --lr ${{inputs.lr}} ]]": " --lr 0.1 ",
    "${{name}}": "job-1",
}


def test_expressions_table_lists_exactly_the_forms_checked_here() -> None:
    written = [form for row in _docstring_table(expressions.__doc__) for form in _examples(row[0])]
    assert sorted(written) == sorted(EXPRESSION_MEANINGS)


@pytest.mark.parametrize(("written", "meaning"), list(EXPRESSION_MEANINGS.items()))
def test_every_expression_renders_as_its_row_says(written: str, meaning: str) -> None:
    assert render_command(written, inputs=INPUTS, outputs=OUTPUTS, job_name="job-1") == meaning


def test_an_optional_fragment_without_its_input_is_dropped() -> None:
    rendered = render_command("train $[[ --lr ${{inputs.lr}} ]] --out ${{outputs.x}}",
                              inputs={"lr": None}, outputs=OUTPUTS, job_name="j")
    assert rendered == "train  --out /out/x"


def _docs() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def test_the_docs_path_tables_parse_into_the_seeds_kinds() -> None:
    """Every example in a "Location | Example" table of README.md or docs/ parses; a form the seed
    also lists parses into the seed's kind."""
    seed_kinds = {re.sub(r"<[^<>]+>", "<>", example): SEED_PATH_KINDS[location]
                  for location, example in SEED_PATHS}
    checked = 0
    for doc in _docs():
        if not doc.is_file():
            continue
        for table in markdown_tables(doc.read_text()):
            if not table[0].replace(" ", "").lower().startswith("|location|example"):
                continue
            for line in table[2:]:
                cell = line.strip("|").split("|")[1]
                for example in re.findall(r"`([^`]+)`", cell):
                    parsed = type(parse_path(fill_placeholders(example))).__name__
                    shape = re.sub(r"<[^<>]+>", "<>", example)
                    if shape in seed_kinds:
                        assert parsed == seed_kinds[shape], f"{doc}: {example}"
                    checked += 1
    assert checked >= len(SEED_PATHS), "README.md / docs/ quote no path table"
