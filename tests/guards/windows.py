"""Fixed rate-limit windows are whole wall-clock seconds: start a burst early in one, so it fits."""

from __future__ import annotations

import time


def start_of_a_window(*, need_s: float = 0.6, fresh: bool = False) -> int:
    """Sleep (under 1 s) until at least ``need_s`` of the current second is left, or until a new second
    begins when ``fresh``; return that second, to check afterwards that the burst stayed inside it."""
    now = time.time()
    if fresh or 1 - now % 1 < need_s:
        time.sleep(1 - now % 1 + 0.005)
    return int(time.time())


def still_in(second: int) -> bool:
    return int(time.time()) == second
