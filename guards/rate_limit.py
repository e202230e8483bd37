"""``RATE_LIMIT_RPS`` per client key on the paid routes: a pure-ASGI layer in front of Django.

Fixed windows of the limiter's clock, counted in the cache with ``add`` + ``incr``, so one Redis gives
every process one shared limit.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from django.core.cache.backends.base import BaseCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guards.cache_io import CacheRunner
from guards.client_key import CLIENT_KEY_SCOPE, ClientKeys
from guards.errors import RateLimited

# Fractional rates become whole requests per whole seconds (0.5 → 1 per 2 s, 2.5 → 5 per 2 s); the
# window is capped so a burst can never exceed an hour's worth of requests.
_MAX_PERIOD_S: Final = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    count: int
    period_s: int

    @classmethod
    def per_second(cls, rps: float) -> Rate:
        fraction = Fraction(str(rps)).limit_denominator(_MAX_PERIOD_S)
        if fraction.numerator == 0:
            return cls(count=1, period_s=_MAX_PERIOD_S)
        return cls(count=fraction.numerator, period_s=fraction.denominator)


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """One counted request: whether it passes, and the RateLimit-* fields to tell the client."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: float

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(max(1, math.ceil(self.reset_s)))}


class RateLimiter:
    """Count requests per client key in fixed windows of ``clock`` (wall-clock seconds, shared by every
    process on the cache), in the cache ``cache``."""

    def __init__(self, *, rps: float, cache: BaseCache, clock: Callable[[], float] = time.time,
                 group: str = "grompt.v1") -> None:
        self.enabled = rps > 0
        self.rate = Rate.per_second(rps) if self.enabled else Rate(count=0, period_s=1)
        self.group = group
        self._clock = clock
        self._runner = CacheRunner(cache)

    async def hit(self, client_key: str) -> Usage | None:
        """Count one request; None when the cache is unreachable (fail open: see guards/README.md)."""
        now, period = self._clock(), self.rate.period_s
        window = math.floor(now / period)
        reset_s = (window + 1) * period - now
        try:
            count = await self._runner.run(self._count, self._key(client_key, window),
                                           ttl_s=math.ceil(reset_s) + 1)
        except self._runner.errors as exc:
            self._runner.report_outage(exc, guard="rate limit")
            return None
        return Usage(allowed=count <= self.rate.count, limit=self.rate.count,
                     remaining=max(0, self.rate.count - count), reset_s=reset_s)

    def _key(self, client_key: str, window: int) -> str:
        # Hashed: a client key may hold any header text, and cache keys must stay short and plain.
        digest = hashlib.blake2b(client_key.encode(), digest_size=16).hexdigest()
        return f"rl:{self.group}:{window}:{digest}"

    def _count(self, key: str, *, ttl_s: int) -> int:
        """This window's count for ``key`` after one more request (``add`` and ``incr`` are atomic in
        LocMem and Redis alike)."""
        cache = self._runner.cache
        if cache.add(key, 1, timeout=ttl_s):
            return 1
        try:
            count: int = cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens the window again
            cache.set(key, 1, timeout=ttl_s)
            return 1
        return count


class RateLimit:
    """ASGI layer: set the client key on every request; count requests under ``prefixes``."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, client_keys: ClientKeys,
                 prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.limiter = limiter
        self.client_keys = client_keys
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client_key = scope[CLIENT_KEY_SCOPE] = self.client_keys.key_for(scope)
        # CORS preflights are the browser's, not the client's requests: never count them.
        if not self.limiter.enabled or scope["method"] == "OPTIONS" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        usage = await self.limiter.hit(client_key)
        if usage is None:
            await self.app(scope, receive, send)
            return
        if not usage.allowed:
            raise RateLimited("rate limit exceeded", retry_after_s=usage.reset_s, headers=usage.headers())
        await self.app(scope, receive, _adding_headers(send, usage.headers()))


def _adding_headers(send: Send, headers: dict[str, str]) -> Send:
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *encoded]
        await send(message)

    return send_with_headers
