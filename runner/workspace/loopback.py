"""An fsspec URL that reaches this machine over the network reads this machine's files around the guards a
local path is held to (``read_refusals.refuse_host_read``: the workspace's secrets and database, links out
of a local datastore), as whichever user its server runs as; over http it reads whatever a server here serves,
the runner's own web UI included. So a link over sftp, ssh, ftp, smb, http(s) or webhdfs to a loopback
address (127.0.0.0/8, ::1, 0.0.0.0, ::), one of this machine's own interface addresses (``own_addresses``:
read from the kernel's tables, no traffic), ``localhost`` or this machine's name, and an hdfs link with no
host (or ``default``: the Hadoop configuration's default file system, which may be ``file:///``), is
refused before fsspec opens anything, with one error saying what to give instead: the files as a local
path or through a local datastore, where they are checked. A remote host is read as before. (The storage
emulator's path-style URL, ``http://127.0.0.1:10000/<account>/...``, is a storage URL, never fsspec's.)
A host is read as ``urlsplit`` reads it and as fsspec does (``infer_storage_options``: up to the last
':'), in any bracketed IPv6 form; one with '::' (``[::1]``) is one error first (fsspec splits it as a chain).

    refuse_this_machine("sftp://localhost/data/x.csv", {}, field="inputs.d.path")  # SpecError
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runner.errors import SpecError
from runner.fsspec_links import fsspec_protocols
from runner.uris import refuse_ipv6_double_colon, without_password
from runner.workspace.read_refusals import cannot

# fsspec's protocols that reach a host named in their URL (or in the ``host`` storage option)
NETWORK = frozenset({"sftp", "ssh", "ftp", "smb", "http", "https", "webhdfs", "webHDFS", "hdfs",
                     "arrow_hdfs"})
DEFAULT_HOST = frozenset({"hdfs", "arrow_hdfs"})  # no host: the configured default file system
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
HINT = ("give the files as a local path (/<path> or file:///<path>) or through a local datastore "
        "(azureml://datastores/<name>/paths/<path>), where they are checked; a remote host is read as before")


def is_this_machine(host: str) -> bool:
    """Whether ``host`` (a URL's, without brackets or port) names this machine: a loopback or unspecified
    address in any form a resolver takes (``127.1``, ``::ffff:127.0.0.1``), ``localhost``, ``*.localhost``
    or this machine's own name. No name is looked up."""
    import socket  # (a link over the network's only: not at a cold start)

    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost") or name == socket.gethostname().lower():
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        if not re.fullmatch(r"[0-9a-fx.]+", name):
            return False
        try:  # the short and numeric IPv4 forms (127.1, 2130706433, 0x7f.1) a resolver reads as addresses
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return False
    mapped = getattr(address, "ipv4_mapped", None)
    if address.version == 6 and 1 < int(address) < 1 << 32:  # IPv4-compatible (::127.0.0.1): as the IPv4
        mapped = ipaddress.IPv4Address(int(address))
    address = mapped or address
    return address.is_loopback or address.is_unspecified or address in own_addresses()


@functools.cache  # once per process: the tables are read, never the network
def own_addresses() -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """This machine's own interface addresses: IPv4 from ``/proc/net/fib_trie`` (its ``/32 host LOCAL``
    entries), IPv6 from ``/proc/net/if_inet6``; none where they cannot be read (not Linux)."""
    found: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    try:
        with open("/proc/net/fib_trie", encoding="ascii", errors="replace") as table:
            last = ""
            for line in table:
                text = line.strip()
                if text.startswith("|--"):
                    last = text[3:].strip()
                elif text == "/32 host LOCAL" and last:
                    found.add(ipaddress.IPv4Address(last))
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/net/if_inet6", encoding="ascii", errors="replace") as table:
            for line in table:
                fields = line.split()
                if fields and len(fields[0]) == 32:
                    found.add(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
    except (OSError, ValueError):
        pass
    return frozenset(found)


def refuse_this_machine(url: str, options: Mapping[str, Any], *, field: str | None,
                        datastore: str | None = None) -> None:
    """One ``SpecError`` when a link of ``url`` (a datastore's, with its storage ``options``: ``host`` at
    the top for its first link, or under the link's protocol) reads this machine over the network."""
    shown = without_password(url)
    try:  # sftp://[::1]/x: fsspec splits it at the '::', so no link names the host
        refuse_ipv6_double_colon(url, field)
    except SpecError as err:
        if datastore is None:
            raise
        raise SpecError(f"{cannot(field)}: datastore '{datastore}': {err.message}", field=field,
                        hint=err.hint) from None
    for i, (link, protocol) in enumerate(zip(url.split("::"), fsspec_protocols(url), strict=False)):
        if protocol not in NETWORK:
            continue
        nested = options.get(protocol)
        given = str((nested if isinstance(nested, Mapping) else {}).get("host") or
                    (options.get("host") if i == 0 else None) or "")
        hosts = [*_hosts(link), given]  # each one fsspec may connect to
        host = next((name for name in hosts if name and is_this_machine(name)), hosts[0])
        if protocol in DEFAULT_HOST and host.lower() in ("", "default"):
            why = ("names no host (or 'default'): it reads the Hadoop configuration's default file system, "
                   "which may be this machine's (fs.defaultFS file:///)")
            fix = "name the namenode: hdfs://<namenode host>:<port>/<path>; or " + HINT
        elif host and is_this_machine(host):
            web = "http" in protocol.lower()
            serves = "whatever a server here serves, the runner's own web UI too" if web \
                else "this machine's files"
            why = (f"reads from this machine ({host}) over {protocol}: {serves}, around the checks every "
                   "local path goes through (the workspace's secrets and database are never read)")
            fix = HINT
        else:
            continue
        where = f"datastore '{datastore}' ({shown})" if datastore else f"'{shown}'"
        raise SpecError(f"{cannot(field)}: {where} {why}", field=field, hint=fix)


def _hosts(link: str) -> list[str]:
    """The host of a link as ``urlsplit`` reads it (what aiohttp and the checks read) and as fsspec's
    ``infer_storage_options`` does (the network location up to its last ':', which sftp, ftp, smb and
    webhdfs connect to): ``sftp://localhost:22[v1.x]/x`` is 'v1.x' to one and 'localhost' to the other.
    None named: an empty list."""
    try:
        parsed = urlsplit(link).hostname or ""
    except ValueError:  # an unclosed bracket: fsspec's reading still counts
        parsed = ""
    netloc = link.split("://", 1)[1].split("/", 1)[0] if "://" in link else ""
    netloc = re.split(r"[?#]", netloc, maxsplit=1)[0]
    fsspec_host = netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]
    return [host for host in dict.fromkeys((parsed, fsspec_host)) if host]
