"""One docker-py client per process, shared by every job of that process (the fork server makes it
once for all its commands), remade when what docker-py read to make it changes. Its requests share one
pool of connections to the engine (``_one_pool``), so a process holds a few, however many jobs it runs."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DOCKER_API_VERSION = "1.41"  # Docker Engine >= 20.10; RUNNER_DOCKER_API_VERSION overrides

# what docker-py's ``from_env`` reads (with the config file, ``_config_stamp``) and our API version
_CLIENT_ENV = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONFIG", "HOME",
               "RUNNER_DOCKER_API_VERSION")
_clients: dict[tuple[object, ...], Any] = {}
CLIENT_POOL_SIZE = 32  # idle connections the client's one pool keeps (docker-py's default is 10)


def docker_client() -> Any:
    """The docker-py client for the engine this environment names, made once per process (~4 ms: a
    requests session, the Docker config file) and reused while that environment and config file stay
    the same. Making it opens no connection, so the fork server makes it for all its commands; a forked
    child never uses connections its parent opened (``_forget_connections``)."""
    key = (*(os.environ.get(name) for name in _CLIENT_ENV), _config_stamp())
    client = _clients.get(key)
    if client is None:
        import docker

        # a fixed API version saves the GET /version round trip of version="auto"; every job of the
        # process shares the client, and each holds two connections while it runs (wait, logs)
        client = docker.from_env(timeout=120, max_pool_size=CLIENT_POOL_SIZE, version=os.environ.get(
            "RUNNER_DOCKER_API_VERSION", DEFAULT_DOCKER_API_VERSION))
        # the engine's socket is never reached through an HTTP proxy or with ~/.netrc credentials:
        # skip requests' lookups of both on every API call (~1-2 ms each)
        client.api.trust_env = False
        _one_pool(client.api)
        _clients.clear()
        _clients[key] = client
    return client


def _one_pool(api: Any) -> None:
    """Every request of ``api`` through one connection pool for its engine. docker-py's adapters for a
    Unix socket, a named pipe or SSH key their pools by the request's whole URL (``get_connection(url)``
    in ``docker/transport/unixconn.py``): each container's ``start``, ``wait``, ``logs`` and ``DELETE``
    got a pool of its own, whose connection stayed open, idle and never reused, until 25 pools
    (``num_pools``) were kept: four more open sockets per job. Keyed by the engine alone (``scheme://
    host``), a request reuses any idle connection. (Over TCP requests' own adapter keys by host already.)"""
    adapter = getattr(api, "_custom_adapter", None)
    if adapter is None or not hasattr(adapter, "pools"):
        return
    per_url = adapter.get_connection

    def get_connection(url: str, proxies: Any = None) -> Any:
        parts = urlsplit(url)
        return per_url(f"{parts.scheme}://{parts.netloc}", proxies)

    adapter.get_connection = get_connection


def _forget_connections() -> None:
    """In a forked child: drop the pooled connections it shares with its parent (it opens its own).
    The fork server's client has none (it never makes a request), so this costs its children nothing."""
    for client in _clients.values():
        try:
            client.api.close()
        except Exception:  # noqa: BLE001 - a child must start whatever happens here
            _clients.clear()
            return


os.register_at_fork(after_in_child=_forget_connections)


def _config_stamp() -> int | None:
    """When the Docker config file (proxies and registry credentials docker-py applies) last changed."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        return os.stat(os.path.join(folder, "config.json")).st_mtime_ns
    except OSError:
        return None
