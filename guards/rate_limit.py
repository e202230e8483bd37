"""``RATE_LIMIT_RPS`` per client key on the paid routes: a pure-ASGI layer in front of Django.

Counting is django-ratelimit's core, ``get_usage`` (its decorator is sync-only): fixed windows on the
wall clock, kept in the Django cache, so one Redis gives every process one shared limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django_ratelimit.core import get_usage
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
    """Count requests per client key in fixed windows of the cache ``cache``."""

    def __init__(self, *, rps: float, cache: BaseCache, group: str = "grompt.v1") -> None:
        self.enabled = rps > 0
        self.rate = Rate.per_second(rps) if self.enabled else Rate(count=0, period_s=1)
        self.group = group
        self._runner = CacheRunner(cache)
        self._alias: str = getattr(settings, "RATELIMIT_USE_CACHE", "default")

    async def hit(self, client_key: str) -> Usage | None:
        """Count one request; None when the cache is unreachable (fail open: see guards/README.md)."""
        try:
            usage = await self._runner.run(self._count, client_key)
        except self._runner.errors as exc:
            self._runner.report_outage(exc, guard="rate limit")
            return None
        # django-ratelimit's time_left is 0 for 1 s windows; its window ends at a whole second.
        reset_s = usage["time_left"] + 1 - (time.time() % 1)
        count: int = usage["count"]
        return Usage(allowed=not usage["should_limit"], limit=self.rate.count,
                     remaining=max(0, self.rate.count - count), reset_s=min(reset_s, self.rate.period_s))

    def _count(self, client_key: str) -> dict[str, int]:
        # get_usage looks its cache up by alias, and Django's cache handler is context-local: a request
        # (or worker thread) that has not seen the alias builds a new cache object, which for Redis is
        # a new connection pool and a new TCP connection per request. Pin the shared object instead.
        caches[self._alias] = self._runner.cache
        usage: dict[str, int] = get_usage(None, group=self.group, key=lambda _group, _request: client_key,
                                          rate=(self.rate.count, self.rate.period_s), increment=True)
        return usage


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
