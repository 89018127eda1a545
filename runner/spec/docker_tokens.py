"""How ``resources.docker_args`` are read: the one reading the docker backend runs them by
(``runner.backends.docker_args``) and the masking of the secrets they set shows them by
(``runner.spec.docker_env``), so both always see the same variables. Pure.

    read_options([split_item("--user 1000 -e API_TOKEN=abc")])
    # Option("--user", "1000", ...), Option("-e", "API_TOKEN=abc", at=(0, 3), prefix="", ...)

Each item is split shell-style (``split_item``), the tokens of all items read in a row, as ``docker run``
reads its options: an option in ``VALUE_OPTIONS`` takes a value, written after ``=`` (``--env=A=1``,
``-e=A=1``), glued to a short option (``-eA=1``, ``-uroot``) or as the next token (``--user 1000``); one in
``FLAG_OPTIONS`` takes none. Docker would take the next token whatever it is: ``--user
--env=API_TOKEN=abc`` makes the whole pair the user's name (and the engine's error echoes it). So a value
that is itself an option (it starts with '-' and is no number: ``--memory-swap -1`` is a value) is not
taken: the option is read without its value, with a ``problem`` the backend refuses it by (one
``SpecError`` naming both options, never a value), and the next token is read as an option, so the masking
finds every pair any reading could set. An option in neither table is read as unknown, taking no value
(the backend refuses it).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from runner.errors import SpecError
from runner.lazy_re import on_first_use

FIELD = "resources.docker_args"
ENV_OPTIONS = ("-e", "--env")

# what runner knows of docker run's options (runner.backends.docker_args: those it accepts, those it
# accepts with --allow-unsafe-docker-args, those it never accepts): which take a value
VALUE_OPTIONS = frozenset({
    "--ipc", "--ulimit", "--cap-drop", "--env", "-e", "--shm-size", "--memory", "-m", "--memory-swap",
    "--cpus", "--cpu-shares", "--pids-limit", "--user", "-u", "--gpus", "--tmpfs",
    "--cap-add", "--security-opt", "--device", "--pid", "--uts", "--userns",
    "--network", "--net", "-v", "--volume", "--mount", "--volumes-from", "--cgroup-parent", "--add-host",
    "-p", "--publish",
})
FLAG_OPTIONS = frozenset({"--init", "--rm", "--privileged", "-P", "--publish-all"})
_SHORT = frozenset(option for option in VALUE_OPTIONS if len(option) == 2)  # -e, -m, -u, -v, -p
Problem = tuple[str, str | None]  # (message, hint) of a SpecError at resources.docker_args


_number_re = on_first_use(r"-\d+(?:\.\d+)?(?::-?\d+)?")  # --memory-swap -1, --pids-limit -1


@dataclass(frozen=True)
class Option:
    """One option as read: its ``value`` (None: a flag, or an option missing its value), where that
    value is (``at``: item, token; the option's own token when it has none) and the text before it in
    that token (``--env=``, ``-e`` glued, ``""`` for a whole token); ``known``: in one of the tables;
    ``problem``: why docker would not read it as written (``error``), never quoting a value."""

    name: str
    value: str | None
    at: tuple[int, int]
    prefix: str
    known: bool
    problem: Problem | None = None

    def error(self) -> SpecError | None:
        """The ``SpecError`` its ``problem`` makes, at ``resources.docker_args``; None without one."""
        if self.problem is None:
            return None
        return SpecError(self.problem[0], field=FIELD, hint=self.problem[1])


def split_item(item: str) -> list[str]:
    """An item's tokens, shell-style; one with unbalanced quotes split at spaces (the spec and the backend
    refuse it before a job is queued)."""
    try:
        return shlex.split(item)
    except ValueError:
        return item.split()


def splits(item: str) -> bool:
    """Whether the item splits shell-style (its quotes are balanced)."""
    try:
        shlex.split(item)
    except ValueError:
        return False
    return True


def is_option(token: str) -> bool:
    """Whether a token reads as an option rather than a value: '-' first, and no number."""
    return token.startswith("-") and _number_re().fullmatch(token) is None


def _head(token: str) -> tuple[str, str | None, str]:
    """(option, its value written in the token or None, the text before that value)."""
    if token[:2] in _SHORT and len(token) > 2 and token[2] != "=":  # -eA=1, -uroot, -m2g: glued
        return token[:2], token[2:], token[:2]
    name, sep, inline = token.partition("=")
    if sep:
        return name, inline, f"{name}="
    return token, None, ""


def _swallowed(name: str, value: str) -> Problem:
    taken = _head(value)[0]
    what = (f"option '{taken}'" if taken in VALUE_OPTIONS | FLAG_OPTIONS
            else "a word starting with '-'")  # not shown: it may be a value
    return (f"docker_args option '{name}' is given {what} as its value: docker would take it as {name}'s "
            "value, not as an option of its own", f"give {name} its value first ({name} <value>), or "
            f"remove {name}")


def _token(items: Sequence[Sequence[str]], at: tuple[int, int]) -> str:
    return items[at[0]][at[1]]


def read_options(items: Sequence[Sequence[str]]) -> Iterator[Option]:
    """The options of docker_args' tokens (``items``: each item's, read in a row), in order. An option
    missing its value, given an option as its value, or a flag given a value has a ``problem`` (the
    backend refuses it), and takes no token that reads as an option."""
    flat = [(i, j) for i, tokens in enumerate(items) for j in range(len(tokens))]
    k = 0
    while k < len(flat):
        at = flat[k]
        name, value, prefix = _head(_token(items, at))
        problem: Problem | None
        following = _token(items, flat[k + 1]) if k + 1 < len(flat) else None
        if name in FLAG_OPTIONS:
            problem = None if value is None else (f"docker_args option '{name}' takes no value", None)
            yield Option(name, None, at, "", True, problem)
        elif name not in VALUE_OPTIONS:
            yield Option(name, value, at, prefix, False)
        elif value is None and following is not None and not is_option(following):
            k += 1
            yield Option(name, following, flat[k], "", True)
        elif value is None:  # the next token, if any, is read as an option
            problem = (_swallowed(name, following) if following is not None
                       else (f"docker_args option '{name}' needs a value", None))
            yield Option(name, None, at, "", True, problem)
        elif is_option(value):
            yield Option(name, None, at, "", True, _swallowed(name, value))
        else:
            yield Option(name, value, at, prefix, True)
        k += 1
