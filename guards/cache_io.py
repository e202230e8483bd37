"""Blocking Django cache calls from async code, and what an unreachable cache means for the guards.

The in-process cache (LocMem) costs microseconds and runs inline; a network cache (Redis) blocks for a
round trip per call, so it runs in a worker thread (``thread_sensitive=False``: calls must not queue
behind one shared thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache

P = ParamSpec("P")
T = TypeVar("T")


def cache_errors(cache: BaseCache) -> tuple[type[Exception], ...]:
    """What an unreachable or failing ``cache`` raises: DNS and socket failures, and CacheUnavailable
    below, are OSErrors; Django's Redis backend also lets redis-py's errors through. redis-py is imported
    only for such a cache (it costs ~7 MB of RSS, measured)."""
    if isinstance(cache, LocMemCache):
        return (OSError,)
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is a dependency; another backend may not need it
        return (OSError,)
    return (redis.exceptions.RedisError, OSError)

log = logging.getLogger("guards.cache")


class CacheUnavailable(OSError):
    """The cache failed a moment ago; it is not asked again until its cool-off has passed."""


class CacheRunner:
    """Call blocking cache functions inline or in a worker thread, by the kind of cache.

    After a failure the cache is left alone for ``cool_off_s``: during an outage one request per
    cool-off pays for the failed round trip, and the others fail open at once.
    """

    def __init__(self, cache: BaseCache, *, cool_off_s: float = 1.0, warn_every_s: float = 30.0) -> None:
        self.cache = cache
        self.inline = isinstance(cache, LocMemCache)
        self.errors = cache_errors(cache)
        self._cool_off_s = cool_off_s
        self._down_until = 0.0
        self._warn_every_s = warn_every_s
        self._last_warning = -warn_every_s
        self._suppressed = 0

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.inline:
            return fn(*args, **kwargs)
        if time.monotonic() < self._down_until:
            raise CacheUnavailable("cache cooling off after a failure")
        try:
            return await sync_to_async(fn, thread_sensitive=False)(*args, **kwargs)
        except self.errors:
            self._down_until = time.monotonic() + self._cool_off_s
            raise

    def report_outage(self, exc: Exception, *, guard: str) -> None:
        """Log that a guard failed open; at most one line per ``warn_every_s`` (an outage is loud)."""
        now = time.monotonic()
        if now - self._last_warning < self._warn_every_s:
            self._suppressed += 1
            return
        log.warning("cache unreachable: %s not enforced (fail open)", guard,
                    extra={"error": type(exc).__name__, "suppressed": self._suppressed})
        self._last_warning = now
        self._suppressed = 0
