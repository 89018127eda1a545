"""The documents the code must agree with, written out here as independent expectations.

Nothing in this module reads ``runner``: the tables below are copied from the documents (the seed,
"Register and work with models", and Azure ML's data-access page), so a test that compares the code's
tables with them fails when the code drifts, instead of comparing the code with itself.
"""

from __future__ import annotations

import re

# ---- "Supported modes", verbatim from the seed (shared/seeds/000_*.txt) ------------------------------
SEED_MODES_TABLE = """\
Type | Input/Output | `upload` | `download` | `ro_mount` | `rw_mount` | `direct` 
------ | ------ | :---: | :---: | :---: | :---: | :---: 
`custom` file  | Input  |   |  |   |  |    
`custom` folder    | Input |   | ✓ | ✓  | |✓  
`mlflow`    | Input |   | ✓ |  ✓ |   |   
`custom` file | Output  | ✓  |   |    | ✓  | ✓   
`custom` folder    | Output | ✓  |   |   | ✓ | ✓  
`mlflow`   | Output | ✓  |   |    | ✓  | ✓ 
"""  # noqa: W291 - the seed's trailing blanks, kept verbatim

# ---- the types the seed does not list -----------------------------------------------------------------
# Azure ML's "Access data in a job" (how-to-read-write-data-v2, "Modes"): uri_file, uri_folder and
# mltable inputs take ro_mount, download and direct (and eval_mount / eval_download, which the runner
# does not offer); their outputs take rw_mount, upload and direct. A triton_model is a folder and takes
# the custom folder row (Azure ML's triton models are custom-format folders with a model repository).
OTHER_TYPES_TABLE = """\
Type | Input/Output | `upload` | `download` | `ro_mount` | `rw_mount` | `direct`
------ | ------ | :---: | :---: | :---: | :---: | :---:
`triton` folder | Input |   | ✓ | ✓ |   | ✓
`triton` folder | Output | ✓ |   |   | ✓ | ✓
`uri_file` file | Input |   | ✓ | ✓ |   | ✓
`uri_file` file | Output | ✓ |   |   | ✓ | ✓
`uri_folder` folder | Input |   | ✓ | ✓ |   | ✓
`uri_folder` folder | Output | ✓ |   |   | ✓ | ✓
`mltable` folder | Input |   | ✓ | ✓ |   | ✓
`mltable` folder | Output | ✓ |   |   | ✓ | ✓
"""

# Azure ML's defaults when ``mode`` is omitted (the same page): inputs ro_mount, outputs rw_mount.
DEFAULT_MODES = {"input": "ro_mount", "output": "rw_mount"}

_SEED_TYPES = {"custom": "custom_model", "mlflow": "mlflow_model", "triton": "triton_model",
               "uri_file": "uri_file", "uri_folder": "uri_folder", "mltable": "mltable"}

Row = tuple[str, str, str]  # (asset type value, "file" | "folder", "input" | "output")


def _cells(line: str, columns: int | None = None) -> list[str]:
    """The cells of a table line, with or without outer pipes (the seed's table has none, so a line
    ending in ``|`` there ends with an empty cell)."""
    parts = line.strip().split("|")
    if line.strip().startswith("|"):
        parts = parts[1:]
    if parts and parts[-1].strip() == "" and (columns is None or len(parts) > columns):
        parts = parts[:-1]
    return [cell.strip() for cell in parts]


def parse_modes_table(text: str) -> dict[Row, frozenset[str]]:
    """``(type, kind, direction) -> {modes with a ✓}`` of a table in the seed's format."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = _cells(lines[0])
    modes = [cell.strip("`") for cell in header[2:]]
    table: dict[Row, frozenset[str]] = {}
    for line in lines[2:]:
        cells = _cells(line, len(header))
        match = re.fullmatch(r"`(\w+)`\s*(file|folder)?", cells[0])
        assert match, f"unexpected type cell {cells[0]!r}"
        kind = match[2] or "folder"  # the seed's `mlflow` row: an MLflow model is a folder
        row = (_SEED_TYPES[match[1]], kind, cells[1].lower())
        assert row not in table, f"row {row} twice"
        table[row] = frozenset(mode for mode, cell in zip(modes, cells[2:], strict=True) if cell == "✓")
    return table


SEED_MODES = parse_modes_table(SEED_MODES_TABLE)
EXPECTED_MODES = {**SEED_MODES, **parse_modes_table(OTHER_TYPES_TABLE)}
ALL_MODES = ("upload", "download", "ro_mount", "rw_mount", "direct")

# ---- "Supported paths", verbatim from the seed ---------------------------------------------------------
SEED_PATHS_TABLE = """\
|Location  | Examples  |
|---------|---------|
|A path on your local computer     | `mlflow-model/model.pkl`         |
|A path on an Azure Machine Learning Datastore   |   `azureml://datastores/<datastore-name>/paths/<path_on_datastore>`      |
|A path from an Azure Machine Learning job   |   `azureml://jobs/<job-name>/outputs/<output-name>/paths/<path-to-model-relative-to-the-named-output-location>`      |
|A path from an MLflow job   |   `runs:/<run-id>/<path-to-model-relative-to-the-root-of-the-artifact-location>`      |
|A path from a Model Asset in Azure Machine Learning Workspace  | `azureml:<model-name>:<version>`|
|A path from a Model Asset in  Azure Machine Learning Registry  | `azureml://registries/<registry-name>/models/<model-name>/versions/<version>`|
"""  # noqa: E501 - verbatim

# location (the seed's words) -> the kind of reference it is (the runner's type names, by intent)
SEED_PATH_KINDS = {
    "A path on your local computer": "LocalPath",
    "A path on an Azure Machine Learning Datastore": "DatastorePath",
    "A path from an Azure Machine Learning job": "JobOutputPath",
    "A path from an MLflow job": "JobOutputPath",
    "A path from a Model Asset in Azure Machine Learning Workspace": "ModelRef",
    "A path from a Model Asset in  Azure Machine Learning Registry": "ModelRef",
}


def parse_paths_table(text: str) -> list[tuple[str, str]]:
    """``[(location, example)]`` of the seed's paths table (placeholders kept)."""
    rows = []
    for line in text.splitlines()[2:]:
        if line.strip():
            location, example = _cells(line)
            rows.append((location, example.strip("`")))
    return rows


def fill_placeholders(example: str) -> str:
    """A concrete path for an example with ``<placeholders>`` (names that the path grammar accepts)."""
    return re.sub(r"<([^<>]+)>", lambda m: re.sub(r"[^A-Za-z0-9]+", "-", m[1]).strip("-") or "x", example)


def markdown_tables(text: str) -> list[list[str]]:
    """Every pipe table in a Markdown text, as its lines (header, rule, rows)."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("|"):
            current.append(line.strip())
        elif current:
            tables.append(current)
            current = []
    return tables
