"""RateLimiter on a real Redis: counts shared by every limiter on it, one connection pool, fail open."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from grompt_gateway.application import GatewayApplication
from grompt_gateway.config import GatewaySettings
from guards import RateLimiter
from tests.support.clock import Clock


@pytest.mark.anyio
async def test_limiters_on_one_redis_share_one_count(redis_url: str, redis_client: redis.Redis) -> None:
    clock = Clock()
    one, two = (RateLimiter(rps=3, cache=RedisCache(redis_url, {}), clock=clock) for _ in range(2))
    usages = [await limiter.hit("org:acme") for limiter in (one, two, one, two, one)]
    assert [usage.allowed if usage else None for usage in usages] == [True, True, True, False, False]
    clock.now += 1  # the next window, for both
    assert [usage.allowed if usage else None for usage in [await two.hit("org:acme")]] == [True]


@pytest.mark.anyio
async def test_requests_reuse_one_connection_pool(redis_url: str, redis_client: redis.Redis) -> None:
    limiter = RateLimiter(rps=1000, cache=RedisCache(redis_url, {}))
    before = redis_client.info()["total_connections_received"]
    for _ in range(30):  # each in its own task, with its own context, as requests are
        await asyncio.create_task(limiter.hit("org:" + uuid.uuid4().hex))
    assert redis_client.info()["total_connections_received"] - before <= 2
    assert len(redis_client.keys("*rl:*")) == 30  # counted in Redis, not in a per-process cache


@pytest.mark.anyio
async def test_an_unreachable_redis_fails_open_and_says_so_once(free_port_url: str,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(rps=1, cache=RedisCache(free_port_url, {}))
    with caplog.at_level(logging.WARNING, logger="guards.cache"):
        assert [await limiter.hit("org:acme") for _ in range(3)] == [None, None, None]
    warnings = [r for r in caplog.records if r.name == "guards.cache"]
    assert len(warnings) == 1
    assert "rate limit not enforced (fail open)" in warnings[0].getMessage()


class CountingRedis(RedisCache):
    """Real (unreachable) Redis that counts how often it is asked."""

    asked = 0

    def add(self, *args: object, **kwargs: object) -> bool:
        self.asked += 1
        return bool(super().add(*args, **kwargs))  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_during_an_outage_the_cache_is_asked_once_per_cool_off(free_port_url: str) -> None:
    cache = CountingRedis(free_port_url, {})
    limiter = RateLimiter(rps=1, cache=cache)
    assert [await limiter.hit("org:acme") for _ in range(5)] == [None] * 5
    assert cache.asked == 1


@pytest.mark.anyio
async def test_a_gateway_keeps_its_guards_on_the_cache_its_settings_name(redis_url: str) -> None:
    """The process's Django cache is local memory here: the application's own CACHE_URL must win."""
    own_db = redis_url.rsplit("/", 1)[0] + "/7"
    client = redis.Redis.from_url(own_db)
    client.flushdb()
    services = GatewayApplication(GatewaySettings(cache_url=own_db, rate_limit_rps=5)).services
    try:
        assert await services.rate_limiter.hit("org:" + uuid.uuid4().hex) is not None
        assert len(client.keys("*rl:*")) == 1  # counted in this Redis database, nowhere else
        assert services.idempotency._runner.cache is services.cache
    finally:
        client.flushdb()
        client.close()
