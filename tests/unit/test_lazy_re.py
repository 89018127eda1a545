"""Patterns compiled on first use (``runner.lazy_re``), and the cheap tests that keep a cold command from
compiling the secret masks' and path forms' patterns: each tests for text every match of its pattern holds,
so a guarded mask or parse answers exactly as the pattern alone would."""

from __future__ import annotations

import re

import pytest

from runner import url_secrets
from runner.errors import SpecError
from runner.lazy_re import on_first_use
from runner.uris import parse_path, parse_storage_url
from runner.url_secrets import QUERY_REMOVED, has_password, without_password, without_query, without_secrets


def test_a_pattern_is_compiled_on_its_first_call_only_and_kept() -> None:
    words = on_first_use(r"[a-z]+", re.IGNORECASE)
    assert words.cache_info().currsize == 0  # type: ignore[attr-defined]
    first = words()
    assert first is words() and first.flags & re.IGNORECASE and first.findall("Ab cD") == ["Ab", "cD"]
    assert words.cache_info().currsize == 1  # type: ignore[attr-defined]
    assert on_first_use(rb"\xc2[\x80-\x9f]")().sub(b"", b"a\xc2\x85b") == b"ab"  # bytes patterns too


GITHUB = "ghp_" + "Z" * 36
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
TEXTS = [
    "", "plain text", "./data/x.csv", "a=b", "name = value", "AccountKey=abc;EndpointSuffix=x",
    "PASSWORD = 's3'",
    "pwd={a;b}}c}", "https://acct.blob.core.windows.net/c/x?sv=1&sig=abc", "s3://b/k?X-Amz-Signature=f00",
    "sftp://user:pa@ss@host/x", "ftp://user@host/x", "user:pw@host", "://?", "x://y?z", "a@b://c",
    f"Bearer {JWT}", f"token {GITHUB} end", "github_pat_11ABCDEFG0" + "x" * 60, "eyJ short", "gh_not",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----begin private key-----abc",
    "----- not a key", f"mixed https://u:p@h/x?sig=1 AccountKey=k {JWT} {GITHUB}", "\u212aey=x", "\u017fig=x",
    f"zip://a::https://h/x?sig=1{QUERY_REMOVED}", "simplecache::s3://b/k?sig=2",
]


def _unguarded(text: str) -> str:
    """``without_secrets`` as it was: every pattern applied whatever the text holds."""
    text = url_secrets._pem_re().sub(lambda found: f"{found['begin']}***{found['end'] or ''}", text)
    for token in (url_secrets.jwt_re, url_secrets.github_token_re):
        text = token().sub(lambda found: f"{found['prefix']}***", text)
    text = url_secrets._query_re().sub(lambda found: found["url"] + QUERY_REMOVED, text)
    text = url_secrets._password_re().sub(r"\g<user>***@", text)
    return url_secrets._key_value_re().sub(r"\g<key>\g<eq>***", text)


@pytest.mark.parametrize("text", TEXTS)
def test_the_guarded_masks_answer_as_their_patterns_alone(text: str) -> None:
    assert without_secrets(text) == _unguarded(text)
    query = url_secrets._query_re().sub(lambda found: found["url"] + QUERY_REMOVED, text)
    assert without_query(text) == query
    assert without_password(text) == url_secrets._password_re().sub(r"\g<user>***@", text)
    assert has_password(text) == (url_secrets._password_re().search(text) is not None)


@pytest.mark.parametrize(("value", "kind"), [
    ("wasbs://c@acct.blob.core.windows.net/x", "StorageUrl"), ("https://acct.dfs.core.windows.net/c/x",
                                                                "StorageUrl"),
    ("http://127.0.0.1:10000/acct/c/x", "StorageUrl"), ("./local/path", "LocalPath"), ("a::b", "SpecError"),
    ("azureml://datastores/ds/paths/x", "DatastorePath"), ("runs:/job/x", "JobOutputPath"),
    ("azureml:m:1", "ModelRef"), ("azureml://jobs/j/outputs/o", "JobOutputPath"),
    ("azureml://registries/r/models/m/versions/1", "ModelRef"),
    ("simplecache::s3://b/k", "FsspecUrl"), ("s3://b/k", "FsspecUrl"), ("file:///tmp/x", "LocalPath"),
    ("azureml:/bad", "SpecError"), ("runs:", "SpecError"), ("wasb://nothing", "SpecError"),
])
def test_each_path_form_is_still_told_apart(value: str, kind: str) -> None:
    """The azureml and runs forms are tried only for a value starting so, the storage URL forms only for one
    holding '://' (as each of their patterns needs): every form still parses as its own."""
    if "://" not in value:
        assert parse_storage_url(value) is None
    try:
        parsed: object = parse_path(value)
    except SpecError as exc:
        parsed = exc
    assert type(parsed).__name__ == kind
