"""A URL's secrets are never shown: its query string (a SAS token, a pre-signed URL's signature) and the
password in its user info (``scheme://user:password@host``) are replaced wherever a path is shown.

    without_query("https://a.blob.core.windows.net/c/x?sig=...")  # ...c/x?<query removed>
    without_password("sftp://me:pw@host/x")                        # sftp://me:***@host/x
    without_secrets("x?sig=1 AccountName=a;AccountKey=k==")         # x?<query removed> ...;AccountKey=***

``without_secrets`` is the one mask for words a message echoes (a ``--set``, a value it quotes): both
of the above, a key=value secret as a connection string or SAS holds it (``SECRET_KEYS``,
``SIGNATURE_KEYS``; its value bare, quoted or in ODBC braces: ``Password="a b"``, ``Pwd={a;b}``) and a PEM
private key's body. Masking twice is masking once (a line holding an error masked before is masked again as
it is), and a chained fsspec URL keeps its later links: a query or a secret value ends where the next link
starts (``zip://a::https://h/x?<query removed>::s3://b/k``, ``s3://b/Pwd=***::zip://a``). A password runs
to the authority's last '@', spaces and quotes too, as fsspec's ``infer_storage_options`` reads it.

And a URL whose host cannot be read: an IPv6 literal with '::' (``sftp://[::1]/x``), which fsspec
splits as a chain (``refuse_ipv6_double_colon``: one error saying how to write it); a ``file://`` URL
naming another machine is ``runner.file_urls``' to refuse.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from runner.errors import SpecError
from runner.lazy_re import on_first_use

QUERY_REMOVED = "?<query removed>"
# where a chained fsspec URL's next link starts ('::' then a protocol: zip://a::https://h/x,
# simplecache::s3://b/k): a query or a secret value ends there, and the links after it are shown
_NEXT_LINK = r"::(?=[A-Za-z][A-Za-z0-9+.\-]*:)"
# a URL's user info: to the authority's last '@' (a password may hold spaces, quotes and '@': fsspec's
# infer_storage_options reads it all), on one line
_USER_INFO = r"[^/?#\n]*@"
# a URL (scheme://...) up to its query string; the query runs to a fragment, whitespace or the chain's
# next link (a value quoted after '=' to its closing quote), and one already removed is not removed
# again (masking twice is masking once)
_query_re = on_first_use(rf"(?P<url>\b[A-Za-z][A-Za-z0-9+.\-]*://(?:{_USER_INFO})?[^\s?#'\"]*)"
                         r"\?(?!<query removed>)"
                         rf"(?:(?!{_NEXT_LINK})(?:=(?:'[^'\n]*'?|\"[^\"\n]*\"?)|[^\s#'\"]))*")
# a URL's user info with a password (scheme://user:password@host): the password runs to the last '@'
_password_re = on_first_use(rf"(?P<user>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:'\"]*:){_USER_INFO}")


def without_query(text: str) -> str:
    """``text`` with the query string of a URL in it replaced (``?<query removed>``): a query can be a
    secret (a SAS token, a pre-signed URL's signature), so a message never shows one."""
    if "?" not in text or "://" not in text:  # in every match (a text without compiles no pattern)
        return text
    return _query_re().sub(lambda found: found["url"] + QUERY_REMOVED, text)


def without_password(text: str) -> str:
    """``text`` with the password in a URL's user info replaced (``scheme://user:***@host``)."""
    if "@" not in text or "://" not in text:  # in every match
        return text
    return _password_re().sub(r"\g<user>***@", text)


# a connection string's secret keys (Azure Storage's AccountKey, SharedAccessSignature; Service Bus's
# SharedAccessKey; a database's Password / Pwd), and a SAS token's or pre-signed URL's signature: regex
# alternatives (lower case; matched ignoring case)
SECRET_KEYS = "accountkey|sharedaccesssignature|sharedaccesskey|password|pwd"
SIGNATURE_KEYS = "sig|x-amz-signature"
# key=value with one of them: the key not the end of a longer word (db_password is one, signal is not);
# the value quoted (to its closing quote, a backslash escaping one; unclosed: to the line's end), in ODBC
# braces ({a;b}, '}}' a brace in it) or bare, running to the next ';', '&', space or quote, a chain's
# next link or a removed query
_key_value_re = on_first_use(rf"(?i)(?<![a-z0-9])(?P<key>{SECRET_KEYS}|{SIGNATURE_KEYS})(?P<eq>\s*=\s*)"
                             r"(?:\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?|\{(?:\}\}|[^}\n])*\}?"
                             rf"|(?:(?!{_NEXT_LINK}|{re.escape(QUERY_REMOVED)})[^;&\s'\"])+)")


_secret_key_at_end_re = on_first_use(rf"(?i)(?<![a-z0-9])(?:{SECRET_KEYS}|{SIGNATURE_KEYS})$")


# a PEM private key: its body (to its END line, or to the text's end when cut short) is the secret
_pem_re = on_first_use(r"(?i)(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?:(?!-----END )[\s\S])*"
                       r"(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY-----)?")
# bearer tokens told by their form (``runner.spec.env_secret_rule`` tells a secret value by them too): a
# JWT (three base64url parts, the first ``eyJ...``), a GitHub token; shown by their prefix (``ghp_***``)
jwt_re = on_first_use(r"(?<![A-Za-z0-9_-])(?P<prefix>eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
                      r"\.[A-Za-z0-9_-]*")
github_token_re = on_first_use(r"(?<![A-Za-z0-9_])(?P<prefix>gh[pousr]_|github_pat_)[A-Za-z0-9_]{30,}")
_GITHUB_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")  # each match begins with one


def without_secrets(text: str) -> str:
    """``text`` as a message may show it: a URL's query and password removed (``without_query``,
    ``without_password``), each key=value secret's value as ``***`` (``AccountKey=***``, ``sig=***``,
    ``Pwd=***``), a PEM private key's body, and a JWT or a GitHub token after its prefix (``eyJ***``,
    ``ghp_***``). For every value a user gave that a message echoes; idempotent
    (``without_secrets(without_secrets(x)) == without_secrets(x)``)."""
    # each pattern only where the text holds what each of its matches does: a text without compiles none
    if "-----" in text:
        text = _pem_re().sub(lambda found: f"{found['begin']}***{found['end'] or ''}", text)
    for marks, token in ((("eyJ",), jwt_re), (_GITHUB_PREFIXES, github_token_re)):
        if any(mark in text for mark in marks):
            text = token().sub(lambda found: f"{found['prefix']}***", text)
    text = without_password(without_query(text))
    return _key_value_re().sub(r"\g<key>\g<eq>***", text) if "=" in text else text


def masked_data(value: Any) -> Any:
    """Plain data (a plan's or a graph's ``-o json`` form) with every string in it ``without_secrets``;
    lists and tuples become lists, other values stay as they are."""
    if isinstance(value, str):
        return without_secrets(value)
    if isinstance(value, dict):
        return {key: masked_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked_data(item) for item in value]
    return value


def names_a_secret(key: str) -> bool:
    """Whether ``key`` (a ``--set``'s field path) ends in one of the key=value secrets' keys
    (``--set AccountKey=...``, ``environment_variables.DB_PASSWORD=...``): its value is not shown."""
    return _secret_key_at_end_re().search(key.strip()) is not None


def has_password(text: str) -> bool:
    """Whether a URL in ``text`` has a password in its user info (``scheme://user:password@host``)."""
    return "@" in text and "://" in text and _password_re().search(text) is not None


# a link's bracketed host (after its scheme and any user info) holding '::': fsspec splits a chain there
_ipv6_double_colon_re = on_first_use(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?:[^/?#\[\]@]*@)?"
                                     r"\[(?P<address>[^\[\]/?#]*::[^\[\]/?#]*)\]?")


def refuse_ipv6_double_colon(url: str, field: str | None) -> None:
    """One ``SpecError`` for a URL whose host is an IPv6 literal with '::' (``sftp://[::1]/x``): fsspec
    splits a URL into a chain at every '::', the one in the brackets too, so no link would name the host
    (nor could the runner tell which machine it is); the hint gives the address in full, with no '::'."""
    found = _ipv6_double_colon_re().search(url)
    if found is None:
        return
    address, zone = (found["address"].split("%", 1) + [""])[:2]
    try:
        packed = int(ipaddress.IPv6Address(address))
        full = "[" + ":".join(f"{(packed >> (16 * (7 - i))) & 0xFFFF:x}" for i in range(8)) + \
               (f"%{zone}" if zone else "") + "]"
    except ValueError:
        full = "[<eight groups>], e.g. [0:0:0:0:0:0:0:1] for [::1]"
    scheme = found["scheme"].lower()
    hint = f"write the address in full, with no '::': {full}, or use a host name for it (one in /etc/hosts)"
    if scheme not in ("http", "https"):  # infer_storage_options keeps the brackets in the host
        hint = (f"use a host name for it (one in /etc/hosts), or an fsspec datastore with url {scheme}:///"
                f"<path> and the address in its storage_options host; the full form {full} has no '::', "
                f"but fsspec's {scheme} keeps the brackets in the host it connects to")
    raise SpecError(f"'{without_secrets(url)}' has the IPv6 address [{found['address']}] as "
                    "its host, but fsspec splits a URL into a chain at every '::' (the one in the address "
                    "too), so it cannot read it as one link", field=field, hint=hint)


DATASTORE_CREATE = "`runner datastore create --file <datastore.yml>`"  # the CLI's, in a secret's hint


def datastore_hint_in_python(hint: str) -> str:
    """A hint that says to register a datastore (for a secret a path may not hold), with the Python API's
    call in place of the CLI's."""
    return hint.replace(DATASTORE_CREATE,
                        "`ml_client.datastores.create_or_update(load_datastore('<datastore.yml>'))`")
