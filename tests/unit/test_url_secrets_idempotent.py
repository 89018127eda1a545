"""``runner.url_secrets.without_secrets`` as properties over a table of inputs: masking is idempotent (a
message masked twice, as a plan's line holding an already masked error is, reads as masked once), no
secret survives it, a chained fsspec URL keeps its later links (only secret values are masked), and text
with no secret (a plain path with '=' in it, a value like ``***``) is left as it is."""

from __future__ import annotations

import itertools

import pytest

from runner.url_secrets import without_secrets

CONN = ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRETKEY/ab+c==;"
        "EndpointSuffix=core.windows.net")
# (given, shown): every secret in a given value is spelled with SECRET
MASKED = [
    (CONN, "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;EndpointSuffix=core.windows.net"),
    ("Server=db;Uid=me;Pwd=SECRETPW", "Server=db;Uid=me;Pwd=***"),
    ("Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=SECRET=",
     "Endpoint=sb://n.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=***"),
    ("BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2020-08-04&ss=b&sig=SECRET%3D",
     "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=***&ss=b&sig=***"),
    ("https://a.blob.core.windows.net/c/x?sv=2024&sig=SECRETSIG",
     "https://a.blob.core.windows.net/c/x?<query removed>"),
    ("https://b.s3.amazonaws.com/k?X-Amz-Signature=SECRET&X-Amz-Date=1",
     "https://b.s3.amazonaws.com/k?<query removed>"),
    ("https://u:SECRETPW@host/x", "https://u:***@host/x"),
    ("https://u:SECRETPW@host/x?sig=SECRET", "https://u:***@host/x?<query removed>"),
    ("sig=SECRET", "sig=***"),
    ("memory://bucket/AccountKey=SECRETKEY==/x", "memory://bucket/AccountKey=***"),
    # chains: the links after a secret are kept
    ("zip://a::https://h/x?sig=SECRET", "zip://a::https://h/x?<query removed>"),
    ("zip://a.txt::https://h/x.zip?sig=SECRET::simplecache::s3://b/k",
     "zip://a.txt::https://h/x.zip?<query removed>::simplecache::s3://b/k"),
    ("simplecache::abfs://c@a.dfs.core.windows.net/x?sv=1&sig=SECRET",
     "simplecache::abfs://c@a.dfs.core.windows.net/x?<query removed>"),
    ("simplecache::abfs://c/AccountKey=SECRET::s3://b/k", "simplecache::abfs://c/AccountKey=***::s3://b/k"),
    ("s3://b/Pwd=SECRET::zip://a", "s3://b/Pwd=***::zip://a"),
    ("zip://a::memory://b/Pwd=SECRET::file:///tmp/x.zip", "zip://a::memory://b/Pwd=***::file:///tmp/x.zip"),
    ("zip://m::sftp://me:SECRETPW@host/a.zip::simplecache::s3://b",
     "zip://m::sftp://me:***@host/a.zip::simplecache::s3://b"),
    ("memory://b/AccountKey=SECRET?x=1", "memory://b/AccountKey=***?<query removed>"),
    # in a sentence, quoted: the words around are kept
    ("'https://h/x?sig=SECRET' does not exist", "'https://h/x?<query removed>' does not exist"),
    ("x?sig=SECRET AccountName=a;AccountKey=SECRET==", "x?sig=*** AccountName=a;AccountKey=***"),
]
PLAIN = ["a=b/c", "./data/k=v/part=1/x.csv", "s3://b/year=2024/month=01", "zip://a::s3://b/k=v",
         "simplecache::abfs://c@a.dfs.core.windows.net/x", "signal=1", "db_user=me", "AccountName=a",
         "./local/what?.csv", "x = 1", "***", "AccountKey=***", "https://u:***@h/x",
         "https://h/x?<query removed>", "", "azureml://datastores/workspaceblobstore/paths/a=b/c"]
GIVEN = [given for given, _ in MASKED] + PLAIN


@pytest.mark.parametrize(("given", "shown"), MASKED)
def test_a_secret_is_masked_and_the_rest_kept(given: str, shown: str) -> None:
    assert without_secrets(given) == shown


@pytest.mark.parametrize("given", PLAIN)
def test_text_with_no_secret_is_left_alone(given: str) -> None:
    assert without_secrets(given) == given


@pytest.mark.parametrize("given", GIVEN)
def test_masking_twice_is_masking_once(given: str) -> None:
    once = without_secrets(given)
    assert without_secrets(once) == once
    assert "SECRET" not in once


@pytest.mark.parametrize("between", [" ", "::", "; "])
def test_joined_values_mask_as_each_alone_and_stay_masked(between: str) -> None:
    """Every two values of the table side by side (in a sentence, in one chain): no secret survives,
    masking again changes nothing, and after a space the second is shown as it is alone."""
    for first, second in itertools.product(GIVEN, repeat=2):
        joined = without_secrets(first + between + second)
        assert "SECRET" not in joined, (first, second)
        assert without_secrets(joined) == joined, (first, second)
        if between == " " and first:
            assert joined.endswith(" " + without_secrets(second)), (first, second)
