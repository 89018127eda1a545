"""``runner.url_secrets`` masks what the hostile review still saw: a key=value secret written quoted
(``Password="v"``, ``sig='v'``) or in an ODBC brace (``Password={a;b}``), a URL password holding a space
or a quote (fsspec's ``infer_storage_options`` reads it all as the password), and a PEM private key."""

from __future__ import annotations

import pytest

from runner.url_secrets import has_password, without_secrets

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpSECRETbody\nmoreSECRET\n-----END RSA PRIVATE KEY-----"

# (given, shown): every secret in a given value is spelled with SECRET
MASKED = [
    ('Password="SECRETv"', "Password=***"),
    ("Password='SECRET v'", "Password=***"),
    ('Server=db;Password="a;SECRET";Uid=me', "Server=db;Password=***;Uid=me"),
    ('Pwd="a\\"SECRET"', "Pwd=***"),
    ("sig='SECRETv'", "sig=***"),
    ("Password={a;SECRETb}", "Password=***"),
    ("Password={a}}SECRET;b}", "Password=***"),
    ("Password='SECRET unterminated", "Password=***"),
    ("compute 'azureml:Password=\"SECRETQ\"' is not registered",
     "compute 'azureml:Password=***' is not registered"),
    ("https://h/x?sig='SECRET v'", "https://h/x?<query removed>"),
    ("https://u:p SECRET@host/x", "https://u:***@host/x"),
    ("sftp://u:p'SECRET@h/d", "sftp://u:***@h/d"),
    ('sftp://u:p"SECRET@h/d', "sftp://u:***@h/d"),
    ("'https://u:p SECRET@host/x' has a password", "'https://u:***@host/x' has a password"),
    ("https://u:p SECRET@host/x?sig=SECRET", "https://u:***@host/x?<query removed>"),
    (PEM, "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"),
    ("key: -----BEGIN PRIVATE KEY-----\\nSECRET\\n-----END PRIVATE KEY----- ok",
     "key: -----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY----- ok"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nSECRET cut short", "-----BEGIN OPENSSH PRIVATE KEY-----***"),
]


@pytest.mark.parametrize(("given", "shown"), MASKED)
def test_the_secret_is_masked(given: str, shown: str) -> None:
    assert without_secrets(given) == shown


@pytest.mark.parametrize(("given", "_shown"), MASKED)
def test_masking_twice_is_masking_once(given: str, _shown: str) -> None:
    once = without_secrets(given)
    assert "SECRET" not in once and without_secrets(once) == once


@pytest.mark.parametrize("text", [
    'name="x"', "mode='fast'", "https://example.com/x", "-----BEGIN PUBLIC KEY-----\nabc",
    "https://h:8080/x and me@example.com/y", "Password=***", "https://u:***@h/x",
])
def test_the_rest_is_left_alone(text: str) -> None:
    assert without_secrets(text) == text


@pytest.mark.parametrize("url", ["https://u:p w@host/x", "sftp://u:p'w@h/d", 'ftp://u:p"w@h/d',
                                 "https://u:p@w@host/x"])
def test_a_password_holding_a_space_a_quote_or_an_at_is_a_password(url: str) -> None:
    assert has_password(url)
