"""Fixed rate-limit windows are whole wall-clock seconds: a burst must start and end inside one."""

from __future__ import annotations

import time
import zlib
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


def in_one_window_of(burst: Callable[[], T], *, client_key: str, period_s: int, attempts: int = 3) -> T:
    """``in_one_window`` for a window of ``period_s`` seconds, whose edges django-ratelimit shifts per client
    key (by the key's crc32): run ``burst`` right after an edge of ``client_key``'s window, so it has the
    whole window for itself."""
    # A window ends with the whole second ≡ crc32(key) (mod period) and the next starts one second later.
    offset = zlib.crc32(client_key.encode()) % period_s + 1
    for _ in range(attempts):
        now = time.time()
        time.sleep(period_s - (now - offset) % period_s + 0.005)
        window = int((time.time() - offset) // period_s)
        result = burst()
        if int((time.time() - offset) // period_s) == window:
            return result
    raise AssertionError(f"{attempts} bursts crossed a window edge: this machine is too slow for the test")
