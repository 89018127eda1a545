"""The ``file:`` forms of a path on this machine, read alike wherever a path is written: a job's inputs,
outputs and ``code:``, a pipeline step's, a chain's last link, a datastore's ``url``.

| written                                                          | names                                |
|------------------------------------------------------------------|--------------------------------------|
| ``file:///x``, ``file://localhost/x``, ``file:/x`` (RFC 8089)    | ``/x``, percent-decoded as a URL is   |
| ``file:<relative path>`` (Azure ML's ``file:`` prefix)            | that path, as written                |
| ``file://<another host>/x``                                      | one ``SpecError``: another machine's  |

Decoding follows RFC 8089 and what tools write (``Path('/a b').as_uri()`` is ``file:///a%20b``); an
encoded ``/`` or NUL (``%2F``, ``%00``: no file name holds one) is one ``SpecError``. A relative path is
no URL (RFC 8089 has none), so it is not decoded. fsspec reads neither form as RFC 8089 does
(``file://host/x`` as the relative ``host/x``, ``%20`` literally), so a chain's file link and a datastore's
url are rewritten ``file:///<decoded path>`` before it sees them (``local_file_url``).

    file_path("file:///data/a%20b.csv", "inputs.d.path")     # '/data/a b.csv'
    file_path("file:src", "code")                            # 'src' (from the YAML's folder)
    local_file_url("zip://a::file://localhost/x.zip", "url")  # 'zip://a::file:///x.zip'
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from runner.errors import SpecError
from runner.lazy_re import on_first_use
from runner.url_secrets import without_password, without_query

# a file URL with an authority (RFC 8089): file://<host><path>, the host empty or localhost for this machine
_file_url_re = on_first_use(r"^file://(?P<host>[^/?#]*)(?P<path>.*)$", re.IGNORECASE | re.DOTALL)


_no_name_holds_re = on_first_use(r"%(?:2f|00)", re.IGNORECASE)  # an encoded '/' or NUL


def is_file_form(value: str) -> bool:
    """Whether ``value`` is written in a ``file:`` form (``file::...`` is a chain whose first link is
    ``file``, fsspec's, refused as such by ``runner.uris``)."""
    return value[:5].lower() == "file:" and value[5:6] != ":"


def file_path(value: str, field: str | None) -> str:
    """The path a ``file:`` form names (the module's table): absolute and percent-decoded for RFC 8089's
    URLs, as written for Azure ML's ``file:`` prefix before a relative path. Another host, no path, or an
    encoded ``/`` or NUL is one ``SpecError`` on ``field``. Any other value is returned as it is."""
    if not is_file_form(value):
        return value
    shown = without_password(without_query(value))
    found = _file_url_re().match(value)
    if found is not None:
        host = found["host"].rsplit("@", 1)[-1]  # no user info
        if host.lower() not in ("", "localhost"):
            hint = ("for a file on this machine write file:///<absolute path>; for one on another machine, "
                    "copy it here, or register a datastore that reaches that machine (`runner datastore "
                    "create`, e.g. type: fsspec with url: sftp://<host>/<path>) and use "
                    "azureml://datastores/<name>/paths/<path>")
            raise SpecError(f"'{shown}' names the host '{host}': a file URL reads a file on this machine, "
                            "file:///<absolute path> (or file://localhost/<absolute path>); another "
                            "machine's files cannot be read as one", field=field, hint=hint,
                            python_hint=hint.replace("`runner datastore create`",
                                                     "`ml_client.datastores.create_or_update(...)`"))
        path = found["path"]
    else:
        path = value[5:]
        if path and not path.startswith("/"):
            return path  # Azure ML's prefix before a relative path: no URL, so nothing is decoded
    if not path:
        raise SpecError(f"'{shown}' names no path", field=field,
                        hint="write file:///<absolute path> (or the path itself)")
    if found_bad := _no_name_holds_re().search(path):
        fixed = unquote(re.sub("%2f", "/", re.sub("%00", "", path), flags=re.IGNORECASE))
        raise SpecError(f"'{shown}' has '{found_bad.group(0)}' in its path, an encoded "
                        f"{'/' if found_bad.group(0)[1] == '2' else 'NUL'}, which no file or folder name on "
                        "this machine holds", field=field,
                        hint=f"write a folder separator as '/' and leave NUL out: file://{fixed} (or the "
                             f"path itself: {fixed})")
    return unquote(path, errors="surrogateescape")  # bytes that are no UTF-8: as os.fsdecode reads them


def local_file_url(url: str, field: str | None) -> str:
    """``url`` with its ``file:`` link (its last: a chain's file on this machine, a datastore's folder) as
    fsspec reads it, ``file:///<decoded path>`` (``file_path``): fsspec would read ``file://localhost/x``
    as the relative ``localhost/x`` and ``%20`` literally. A relative ``file:`` link is left as written
    (``runner.fsspec_links.refuse_protocols`` refuses one in a chain); a path decoding to ``::``, where fsspec
    splits a URL into links, is one ``SpecError``."""
    head, sep, last = url.rpartition("::")
    if not is_file_form(last) or last[5:6] != "/":
        return url
    path = file_path(last, field)
    if "::" in path:
        raise SpecError(f"'{without_password(without_query(url))}' names the file '{path}', whose '::' "
                        "fsspec reads as the start of another link", field=field,
                        hint="rename the file or its folder (no '::'), or copy it to a path without one")
    return f"{head}{sep}file://{path}"
