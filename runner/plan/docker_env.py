"""The container variables ``resources.docker_args`` set (``-e NAME=VALUE``, ``--env NAME=VALUE``,
``--env=NAME=VALUE``), read as the docker backend reads them (``runner.backends.docker_args``: each item
split shell-style, the tokens of all items in a row, an option without ``=`` taking the next token), and
docker_args with some of their values replaced, every other token as written. Pure.

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

ENV_OPTIONS = ("-e", "--env")


def _split(item: str) -> list[str]:
    try:
        return shlex.split(item)
    except ValueError:  # unbalanced quotes: refused by the backend's own check
        return item.split()


def _splits(item: str) -> bool:
    try:
        shlex.split(item)
    except ValueError:
        return False
    return True


def _quoted(token: str) -> str:
    """``token`` as the backend's split reads it back: as is when it is one word already (``NAME=***``),
    else shell-quoted."""
    return token if _splits(token) and shlex.split(token) == [token] else shlex.quote(token)


def _joined(item: str, tokens: list[str]) -> str:
    """The item's tokens as one item again; one with unbalanced quotes stays one (still refused)."""
    return " ".join(_quoted(token) for token in tokens) if _splits(item) else " ".join(tokens)


def _values(items: list[list[str]]) -> Iterator[tuple[int, int, str, str, str]]:
    """Each variable set: (item, token, the token's text before the pair, name, value)."""
    flat = [(i, j) for i, tokens in enumerate(items) for j in range(len(tokens))]
    k = 0
    while k < len(flat):
        i, j = flat[k]
        option, inline, rest = items[i][j].partition("=")
        if option in ENV_OPTIONS:
            if inline:
                at, prefix, pair = (i, j), f"{option}=", rest
            elif k + 1 < len(flat):
                k += 1
                at, prefix, pair = flat[k], "", items[flat[k][0]][flat[k][1]]
            else:
                break
            name, sep, value = pair.partition("=")
            if sep:  # -e NAME alone (the host's value) is refused by the backend: nothing set here
                yield *at, prefix, name, value
        k += 1


def env_pairs(args: Sequence[str]) -> list[tuple[str, str]]:
    """Every (name, value) docker_args set, in order (a later one for the same name wins, as in docker)."""
    return [(name, value) for _, _, _, name, value in _values([_split(item) for item in args])]


def with_env_values(args: Sequence[str], change: Callable[[str, str], str | None]) -> list[str]:
    """``args`` with each variable's value replaced by ``change(name, value)`` where that is not None."""
    items = [_split(item) for item in args]
    changed: set[int] = set()
    for i, j, prefix, name, value in list(_values(items)):
        new = change(name, value)
        if new is not None and new != value:
            items[i][j] = f"{prefix}{name}={new}"
            changed.add(i)
    return [_joined(item, items[i]) if i in changed else item for i, item in enumerate(args)]
