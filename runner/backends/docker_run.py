"""``ContainerRun``: one started container of the Docker backend (``runner.backends.docker``): its log
streamed (from an offset: a reattached job's log is not written twice), waited for (with why the kernel
ended it, when it did), stopped (a grace period, then killed) and removed, with its network holder and
relay (``runner.backends.netns_relay``) closed with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runner.backends.docker_oom import oom_reason
from runner.errors import ContainerError

if TYPE_CHECKING:
    from runner.backends.netns_relay import RelayedNetwork

log = logging.getLogger(__name__)


class ContainerRun:
    """A started container."""

    def __init__(self, container: Any, *, network: str = "", log_offset: int = 0,
                 follow: bool = True, relay: RelayedNetwork | None = None) -> None:
        self.container = container
        self._relay = relay  # its network holder and relay (``netns_relay``), closed with it
        self.network = network  # the network the container got, and why (for the job record)
        self._removed = False
        self._log_offset = log_offset  # bytes of the log to skip (already in the job's log)
        self._follow = follow  # False: the log up to now, then the stream ends
        self._end_reason: str | None = None

    @property
    def ident(self) -> str:
        return str(self.container.id)

    def logs(self) -> Iterator[bytes]:
        import docker.errors

        from runner.backends.base import skip_bytes  # start-up cost: a run's, not validate's

        try:
            yield from skip_bytes(self._log_stream(), self._log_offset)
        except docker.errors.NotFound:
            return

    def _log_stream(self) -> Iterator[bytes]:
        """``GET /containers/<id>/logs?follow=1`` demultiplexed. docker-py's ``logs()`` first inspects
        the container to learn whether it has a TTY; ours never do (no ``tty`` option is accepted), so
        that round trip is skipped."""
        api = self.container.client.api
        params = {"stdout": 1, "stderr": 1, "timestamps": 0, "follow": int(self._follow), "tail": "all"}
        response = api._get(api._url("/containers/{0}/logs", self.ident), params=params, stream=True)
        try:  # read to its end, its connection goes back to the pool; left early, it is closed now
            api._raise_for_status(response)
            yield from api._multiplexed_response_stream_helper(response)
        finally:
            response.close()

    def wait(self) -> int:
        import docker.errors

        try:
            code = int(self.container.wait(timeout=None)["StatusCode"])
        except docker.errors.NotFound as exc:
            raise ContainerError("the job's container disappeared while it ran") from exc
        if code != 0:  # (one more request, only for a failed command)
            self._end_reason = oom_reason(self.container.client.api, self.ident, killed=code == 137)
        return code

    def end_reason(self) -> str | None:
        return self._end_reason

    def stop(self, grace_s: float) -> None:
        import docker.errors

        try:
            self.container.stop(timeout=max(int(grace_s), 0))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            log.warning("stopping container %s failed (%s); killing it", self.ident[:12], exc)
            self.container.kill()

    def remove(self) -> None:
        import docker.errors

        if self._removed:
            return
        try:
            self.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            log.warning("removing container %s failed: %s", self.ident[:12], exc)
            return
        finally:  # the relay ends with the job's container, whatever removing it did
            if self._relay is not None:
                self._relay.close()
        self._removed = True
