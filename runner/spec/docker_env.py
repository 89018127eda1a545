"""The container variables ``resources.docker_args`` set (``-e NAME=VALUE``, ``--env NAME=VALUE``,
``--env=NAME=VALUE``, ``-eNAME=VALUE``), read as the docker backend reads them: by the one reading of
docker_args, ``runner.spec.docker_tokens`` (each item split shell-style, the tokens of all items in a row,
the options that take a value taking theirs; an option given another option as its value, which the
backend refuses, takes none, so the pair after it is found), and docker_args with some of their values
replaced, every other token as written. Pure.

    env_pairs(["-e MODE=fast", "--env=API_TOKEN=abc"])            # [("MODE", "fast"), ("API_TOKEN", "abc")]
    with_env_values(["-e API_TOKEN=abc"], lambda n, v: "***")     # ["-e API_TOKEN=***"]

An item is only rewritten when one of its values changes (its tokens joined again, quoted where the
backend's split needs it, so it splits into the same tokens); a docker_args string (a pipeline's raw
``resources``) is one item. An item with unbalanced quotes is read split at spaces (the backend refuses it
before a job is queued; its values are still found, and it stays unbalanced).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Sequence

from runner.spec.docker_tokens import ENV_OPTIONS, read_options, split_item, splits


def _quoted(token: str) -> str:
    """``token`` as the backend's split reads it back: as is when it is one word already (``NAME=***``),
    else shell-quoted."""
    return token if splits(token) and shlex.split(token) == [token] else shlex.quote(token)


def _joined(item: str, tokens: list[str]) -> str:
    """The item's tokens as one item again; one with unbalanced quotes stays one (still refused)."""
    return " ".join(_quoted(token) for token in tokens) if splits(item) else " ".join(tokens)


def _values(items: list[list[str]]) -> Iterator[tuple[int, int, str, str, str]]:
    """Each variable set: (item, token, the token's text before the pair, name, value)."""
    for option in read_options(items):
        if option.name in ENV_OPTIONS and option.value is not None:
            name, sep, value = option.value.partition("=")
            if sep:  # -e NAME alone (the host's value) is refused by the backend: nothing set here
                yield *option.at, option.prefix, name, value


def env_pairs(args: Sequence[str]) -> list[tuple[str, str]]:
    """Every (name, value) docker_args set, in order (a later one for the same name wins, as in docker)."""
    return [(name, value) for _, _, _, name, value in _values([split_item(item) for item in args])]


def with_env_values(args: Sequence[str], change: Callable[[str, str], str | None]) -> list[str]:
    """``args`` with each variable's value replaced by ``change(name, value)`` where that is not None."""
    items = [split_item(item) for item in args]
    changed: set[int] = set()
    for i, j, prefix, name, value in list(_values(items)):
        new = change(name, value)
        if new is not None and new != value:
            items[i][j] = f"{prefix}{name}={new}"
            changed.add(i)
    return [_joined(item, items[i]) if i in changed else item for i, item in enumerate(args)]
