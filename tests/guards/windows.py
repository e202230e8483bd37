"""Fixed rate-limit windows are whole wall-clock seconds: a burst must start and end inside one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def in_one_window(burst: Callable[[], T], *, fresh: bool = False, need_s: float = 0.8, attempts: int = 3) -> T:
    """Run ``burst`` early in a second (in a new second when ``fresh``); run it again, at most
    ``attempts`` times in all, when a slow machine let it cross into the next second. ``burst`` must
    use new client keys on every call."""
    for _ in range(attempts):
        now = time.time()
        if fresh or 1 - now % 1 < need_s:
            time.sleep(1 - now % 1 + 0.005)
        second = int(time.time())
        result = burst()
        if int(time.time()) == second:
            return result
    raise AssertionError(f"{attempts} bursts crossed a window edge: this machine is too slow for the test")
