"""An fsspec URL naming one of this machine's own interface addresses (not only loopback: the address
its network card has) reaches this machine's files over the network as much as ``localhost`` does, so it
is refused the same way (``loopback.is_this_machine``). A remote address is read as before.

The address comes from the kernel's interface table (``SIOCGIFADDR``, no traffic), independently of how
the runner finds its own. Nothing here opens a connection."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct

import pytest

from runner.errors import SpecError
from runner.workspace.loopback import is_this_machine, refuse_this_machine

SIOCGIFADDR = 0x8915


def _ipv4_of(name: str) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            packed = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None  # no IPv4 address on it
    return socket.inet_ntoa(packed[20:24])


def _first_own_address() -> str:
    for _, name in socket.if_nameindex():
        address = _ipv4_of(name)
        if address and not ipaddress.ip_address(address).is_loopback:
            return address
    if os.environ.get("CI") == "true":
        pytest.fail("this machine has no non-loopback IPv4 address: the test needs one in CI")
    pytest.skip("this machine has no non-loopback IPv4 address to test with")


def _first_own_ipv6() -> str | None:
    try:
        with open("/proc/net/if_inet6") as table:
            rows = [line.split() for line in table]
    except OSError:
        return None
    for row in rows:
        address = ipaddress.IPv6Address(bytes.fromhex(row[0]))
        if not address.is_loopback and not address.is_link_local:
            return address.exploded  # no "::": in a URL fsspec reads that as a chain's separator
    return None


@pytest.mark.parametrize("form", ["sftp://{a}/data/x.csv", "http://{a}:8765/jobs", "ssh://me@{a}:22/etc/x",
                                  "https://{a}/x.csv", "ftp://{a}/x"])
def test_this_machines_own_address_is_refused(form: str) -> None:
    address = _first_own_address()
    assert is_this_machine(address)
    with pytest.raises(SpecError) as caught:
        refuse_this_machine(form.format(a=address), {}, field="inputs.d.path")
    assert f"reads from this machine ({address})" in caught.value.message
    assert caught.value.field == "inputs.d.path" and caught.value.hint


def test_its_ipv4_mapped_form_and_its_ipv6_address_are_refused() -> None:
    address = _first_own_address()
    assert is_this_machine(f"[::ffff:{address}]")
    ipv6 = _first_own_ipv6()
    if ipv6 is not None:  # this machine may have none (beyond loopback and link-local)
        assert is_this_machine(f"[{ipv6}]")
        with pytest.raises(SpecError):
            refuse_this_machine(f"sftp://[{ipv6}]/data/x.csv", {}, field="inputs.d.path")


def test_a_remote_address_is_read_as_before() -> None:
    for remote in ("203.0.113.9", "2001:db8::9", "example.org"):  # documentation addresses: never ours
        assert not is_this_machine(remote)
    refuse_this_machine("sftp://203.0.113.9/data/x.csv", {}, field="inputs.d.path")
