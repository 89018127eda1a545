"""``relayed_network`` when runner cannot relay (not root: no CAP_SYS_ADMIN to enter the holder's
namespace): the job keeps today's host network, and the reason recorded says so, as a warning naming the
endpoints it was meant to reach only; when the engine fails, one ``BackendError`` (no traceback). No
daemon: the holder's start is replaced by one that fails as it would."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from test_no_network_sandbox import direct_input, make_plan

from runner.backends import netns_relay
from runner.backends.base import PreparedImage, RunSpec
from runner.errors import BackendError

AZURITE = {"AZURE_STORAGE_CONNECTION_STRING":
           "AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/a;"}


def _spec() -> RunSpec:
    return RunSpec(plan=make_plan(direct_input()), mounts=(), env=AZURITE)


def _failing(exc: BaseException) -> Any:
    def start(*args: Any, **kwargs: Any) -> Any:
        raise exc
    return start


def test_without_root_the_job_keeps_the_host_network_with_a_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(netns_relay, "open_relayed_network",
                        _failing(netns_relay.RelayUnavailable(1, "Operation not permitted")))
    with caplog.at_level(logging.WARNING, logger=netns_relay.__name__):
        relay, network, why = netns_relay.relayed_network(
            None, _spec(), PreparedImage("i", "sha256:1", "/bin/sh"), "relayed to 127.0.0.1:10000 only: ...",
            [("127.0.0.1", 10000)])
    assert relay is None and network == "host"
    assert why.startswith("host network (warning: the container reaches every loopback service of this "
                          "machine, not only 127.0.0.1:10000)")
    assert "Operation not permitted" in why and "run runner as root" in why
    assert why in caplog.text and "AccountKey" not in why + caplog.text


def test_an_engine_failure_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_relay, "open_relayed_network", _failing(RuntimeError("engine said no")))
    with pytest.raises(BackendError, match="could not give the job's container its relayed network: "
                                           "engine said no") as info:
        netns_relay.relayed_network(None, _spec(), PreparedImage("i", "sha256:1", "/bin/sh"), "why",
                                    [("127.0.0.1", 10000)])
    assert info.value.hint and "docker ps" in info.value.hint
