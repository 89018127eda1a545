"""A URL's secrets are never shown: its query string (a SAS token, a pre-signed URL's signature) and the
password in its user info (``scheme://user:password@host``) are replaced wherever a path is shown.

    without_query("https://a.blob.core.windows.net/c/x?sig=...")  # ...c/x?<query removed>
    without_password("sftp://me:pw@host/x")                        # sftp://me:***@host/x
"""

from __future__ import annotations

import re

# a URL (scheme://...) up to its query string; the query runs to a fragment or whitespace
_QUERY = re.compile(r"(?P<url>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s?#'\"]*)\?[^\s#'\"]*")
# a URL's user info with a password (scheme://user:password@host): the password runs to the last '@'
_PASSWORD = re.compile(r"(?P<user>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:'\"]*:)[^\s/?#'\"]*@")


def without_query(text: str) -> str:
    """``text`` with the query string of a URL in it replaced (``?<query removed>``): a query can be a
    secret (a SAS token, a pre-signed URL's signature), so a message never shows one."""
    return _QUERY.sub(r"\g<url>?<query removed>", text)


def without_password(text: str) -> str:
    """``text`` with the password in a URL's user info replaced (``scheme://user:***@host``)."""
    return _PASSWORD.sub(r"\g<user>***@", text)


def has_password(text: str) -> bool:
    """Whether a URL in ``text`` has a password in its user info (``scheme://user:password@host``)."""
    return _PASSWORD.search(text) is not None
