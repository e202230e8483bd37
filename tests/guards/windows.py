"""Rate-limit windows of a gateway in another process, whose clock a test cannot hold: the wall clock's
multiples of the window's length. A burst is run again at once (never after a wait) when it crossed an edge."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def in_one_window(burst: Callable[[], T], *, period_s: int) -> T:
    """Run ``burst``; when a window edge passed while it ran, run it once more: the edge has just passed, so
    the second run has a whole window to itself. ``burst`` must use new client keys on every call."""
    for _ in range(2):
        window = math.floor(time.time() / period_s)
        result = burst()
        if math.floor(time.time() / period_s) == window:
            return result
    raise AssertionError(f"a burst outlasted a whole {period_s} s window: this machine is too slow for the test")
