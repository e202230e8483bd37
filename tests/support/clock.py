"""A clock for the guards that stands still unless the test moves it: windows never end mid-test."""

from __future__ import annotations

import itertools
from typing import Final

# 2026-11-30 12:00:10 UTC: ten seconds into a minute, far from a day's edge.
NOON: Final = 1_796_040_010.0


class Clock:
    """Seconds, as ``time.time`` or ``time.monotonic`` give them; ``now`` moves only when a test sets it."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


_HOURS: Final = itertools.count(1)


def fresh_clock() -> Clock:
    """A standing clock an hour after every earlier one: the windows it counts in are its own, although
    the gateways of one test process share their local-memory cache (and with it the 127.0.0.1 bucket)."""
    return Clock(NOON + 3600 * next(_HOURS))
