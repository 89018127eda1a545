"""The errors ``runner.fsspec_links.refuse_protocols`` raises for a chain's links (an open-ended protocol,
this machine's files before the last link or by a relative path, a link that is no cache or archive) echo the
URL with its secrets masked (``runner.url_secrets.without_secrets``): a password in its user info, a
connection string's key or a signature in its path, its query; the rest of the URL, its later links too,
as written. So does the error for an IPv6 host with '::' (``refuse_ipv6_double_colon``)."""

from __future__ import annotations

import pytest

from runner.errors import SpecError
from runner.fsspec_links import fsspec_protocols, refuse_protocols
from runner.uris import parse_path
from runner.url_secrets import refuse_ipv6_double_colon

CASES = [  # (url, what the message says, how the url is shown)
    ("reference://x/AccountKey=SECRETKEY==", "'reference' protocol",
     "'reference://x/AccountKey=***'"),
    ("zip://a::reference://u:SECRETPW@h/x::s3://b/k", "'reference' protocol",
     "'zip://a::reference://u:***@h/x::s3://b/k'"),
    ("zip://a::file:///tmp/x.zip::s3://b/Pwd=SECRETPW", "before its last link",
     "'zip://a::file:///tmp/x.zip::s3://b/Pwd=***'"),
    ("https://u:SECRETPW@h/x::s3://b/k", "before its last link", "'https://u:***@h/x::s3://b/k'"),
    ("https://h/x.zip?sv=1&sig=SECRETSIG::s3://b/k", "before its last link",
     "'https://h/x.zip?<query removed>::s3://b/k'"),
    ("zip://a::file:rel/Server=db;Pwd=SECRETPW.zip", "by a relative path",
     "'zip://a::file:rel/Server=db;Pwd=***'"),
]


@pytest.mark.parametrize(("url", "said", "shown"), CASES)
def test_the_echoed_url_has_its_secrets_masked(url: str, said: str, shown: str) -> None:
    with pytest.raises(SpecError) as raised:
        refuse_protocols(url, fsspec_protocols(url), "inputs.data.path", known=True)
    message = str(raised.value)
    assert said in message and shown in message, message
    assert "SECRET" not in message, message


@pytest.mark.parametrize("path", ["reference://x/AccountKey=SECRETKEY==",
                                  "zip://a::reference://x/Pwd=SECRETPW::s3://b/k",
                                  "zip://a::file:rel/Pwd=SECRETPW.zip"])
def test_a_path_refused_for_its_links_does_not_echo_a_secret(path: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_path(path, field="inputs.data.path")
    message = str(raised.value)
    assert "=***" in message and "SECRET" not in message, message


def test_an_ipv6_host_error_does_not_echo_a_secret() -> None:
    with pytest.raises(SpecError) as raised:
        refuse_ipv6_double_colon("sftp://[::1]/Server=db;Pwd=SECRETPW", "inputs.data.path")
    message = str(raised.value)
    assert "'sftp://[::1]/Server=db;Pwd=***'" in message and "SECRET" not in message, message
