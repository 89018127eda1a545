"""The URL of a path on a filesystem that takes its host as an option and drops it from its paths: fsspec's
ftp://, sftp://, ssh://, smb:// (and webhdfs://, hdfs://) read ``ftp://me@h:2121/base`` as the path
``/base`` on a filesystem made with ``host``, ``port`` and ``username``, so naming a path's URL from the
filesystem alone (``unstrip_protocol``) loses the host: ``ftp:///base/x``. ``with_host`` puts back the
scheme and the authority as the datastore's URL writes them (``user@host:port``, a password masked as
everywhere: ``user:***@host``), or, for a URL naming no host, the ``host`` and ``port`` of its storage
options (never a password: those hold it). Whether a protocol drops its host is its filesystem class's
own word (``_strip_protocol`` of a URL with a host), so no filesystem is made (ftp's would connect).
fsspec is imported only when it is called.

    with_host("ftp://me@h:2121/base", "/base/x.csv", {})            # ftp://me@h:2121/base/x.csv
    with_host("ftp:///base", "/base/x.csv", {"host": "h", "port": 21})  # ftp://h:21/base/x.csv
    with_host("s3://bucket/base", "bucket/base/x.csv", {})           # None: its paths keep the bucket
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.url_secrets import without_password

_PROBE = "runner-host-probe"  # a host name no path of a filesystem that keeps its host drops


def drops_host(protocol: str) -> bool:
    """Whether fsspec's filesystem for ``protocol`` reads a URL's host as an option, not as a path."""
    import fsspec  # only for a URL elsewhere

    try:
        cls = fsspec.get_filesystem_class(protocol)
        return _PROBE not in str(cls._strip_protocol(f"{protocol}://{_PROBE}/x"))
    except Exception:  # noqa: BLE001 - unknown, not installed, or no class method: said where it is made
        return False


def link_options(options: Mapping[str, Any], protocol: str, *, first: bool) -> dict[str, Any]:
    """The storage options fsspec gives a chain's link of ``protocol`` (``fsspec.core._un_chain``): those
    under its protocol's name, and for the first link the top-level ones too."""
    own = options.get(protocol)
    return {**(dict(options) if first else {}), **(own if isinstance(own, Mapping) else {})}


def with_host(link: str, fs_path: str, options: Mapping[str, Any]) -> str | None:
    """The URL of ``fs_path`` on the filesystem of ``link`` (one link of a URL, its storage options
    ``options``), with the scheme and host that link's filesystem drops from its paths; None when its
    paths keep the host (s3://, abfs://, http(s)://, memory:// ...) or ``link`` has no scheme."""
    protocol, sep, rest = link.partition("://")
    if not sep or not drops_host(protocol):
        return None
    authority = rest.split("/", 1)[0]
    host = without_password(f"{protocol}://{authority}")[len(protocol) + 3:] if authority else \
        _host_in(options)
    return f"{protocol}://{host}/{fs_path.lstrip('/')}"


def _host_in(options: Mapping[str, Any]) -> str:
    """``host[:port]`` of storage options (an IPv6 address bracketed); '' when they name none."""
    host = str(options.get("host") or "")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = options.get("port")
    return f"{host}:{port}" if host and port else host
