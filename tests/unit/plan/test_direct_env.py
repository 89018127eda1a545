"""``runner.plan.direct_env``: each direct binding gets its own storage options; the process-wide
variables adlfs reads are set only where every binding agrees on them."""

from __future__ import annotations

import json

from runner.modes import Direction
from runner.plan.direct_env import merge_direct_env, storage_options

A = {"AZURE_STORAGE_ACCOUNT_NAME": "acct", "AZURE_STORAGE_ACCOUNT_KEY": "key-a",
     "AZURE_STORAGE_CONNECTION_STRING": "AccountName=acct;AccountKey=key-a"}
B = {"AZURE_STORAGE_ACCOUNT_NAME": "other", "AZURE_STORAGE_SAS_TOKEN": "sv=1&sig=b",
     "AZURE_STORAGE_CONNECTION_STRING": "AccountName=other;SharedAccessSignature=sv=1&sig=b"}


def test_one_binding_sets_the_variables_and_its_options() -> None:
    merged = merge_direct_env([("a", Direction.INPUT, A)])
    assert {k: v for k, v in merged.env.items() if k.startswith("AZURE_STORAGE_")} == A
    assert json.loads(merged.env["AZURE_ML_INPUT_a_STORAGE_OPTIONS"]) == {
        "account_name": "acct", "account_key": "key-a", "connection_string": A[
            "AZURE_STORAGE_CONNECTION_STRING"]}
    assert merged.conflicts == [] and merged.warning() is None


def test_bindings_on_the_same_store_share_the_variables() -> None:
    merged = merge_direct_env([("a", Direction.INPUT, A), ("o", Direction.OUTPUT, dict(A))])
    assert merged.env["AZURE_STORAGE_ACCOUNT_KEY"] == "key-a"
    assert "AZURE_ML_OUTPUT_o_STORAGE_OPTIONS" in merged.env and merged.warning() is None


def test_two_stores_never_get_one_anothers_credentials() -> None:
    merged = merge_direct_env([("a", Direction.INPUT, A), ("b", Direction.INPUT, B),
                               ("c", Direction.INPUT, dict(A))])
    assert not any(k.startswith("AZURE_STORAGE_") for k in merged.env)  # neither's, for every binding
    options = {name: json.loads(merged.env[f"AZURE_ML_INPUT_{name}_STORAGE_OPTIONS"]) for name in "abc"}
    assert options["a"]["account_key"] == "key-a" and "sas_token" not in options["a"]
    assert options["b"]["sas_token"] == "sv=1&sig=b" and "account_key" not in options["b"]
    assert options["c"] == options["a"]
    warning = merged.warning() or ""
    assert "'a' and 'b'" in warning and "AZURE_STORAGE_CONNECTION_STRING" in warning
    assert "key-a" not in warning and "sig=b" not in warning  # names, never values


def test_fsspec_options_and_bindings_without_credentials() -> None:
    s3 = {"FSSPEC_S3": json.dumps({"key": "k", "secret": "s"})}
    merged = merge_direct_env([("local", Direction.INPUT, {}), ("s", Direction.OUTPUT, s3)])
    assert "AZURE_ML_INPUT_local_STORAGE_OPTIONS" not in merged.env
    assert json.loads(merged.env["AZURE_ML_OUTPUT_s_STORAGE_OPTIONS"]) == {"key": "k", "secret": "s"}
    assert merged.env["FSSPEC_S3"] == s3["FSSPEC_S3"]
    assert storage_options({"FSSPEC_GCS": "not json"}) == {}
