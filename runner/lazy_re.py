"""Regular expressions compiled when first used, not when their module is imported: Python's regex
compiler runs ~0.3-1 M instructions a pattern, which a cold command (``runner job validate``, issue 21)
would pay for every pattern of every module it imports, used or not (tests/unit/test_cold_start.py).

    _shm_re = on_first_use(r"^\\d+[bkmgBKMG]?$")  # at module level: nothing compiled yet
    _shm_re().match(value)  # compiled once, on this first call
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import AnyStr


def on_first_use(pattern: AnyStr, flags: int = 0) -> Callable[[], re.Pattern[AnyStr]]:
    """A function returning ``re.compile(pattern, flags)``, compiled on its first call and kept
    (``functools.cache``: its ``cache_info()`` says whether it was called)."""
    def compiled() -> re.Pattern[AnyStr]:
        return re.compile(pattern, flags)
    return functools.cache(compiled)
