"""IdempotencyStore on a real cache (in-process LocMem, and Redis): replay, reuse, waiting, failures."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from guards import IdempotencyStore, StoredResponse, fingerprint
from guards.errors import IdempotencyKeyReused
from llm.errors import DeadlineExceeded, InvalidRequest, UpstreamError

OK = StoredResponse(status=200, body=b'{"text":"hi"}', headers={"Content-Type": "application/json"})


@pytest.fixture(params=["locmem", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[BaseCache]:
    if request.param == "locmem":
        yield LocMemCache(uuid.uuid4().hex, {})
    else:
        request.getfixturevalue("redis_client")  # an empty database
        yield RedisCache(request.getfixturevalue("redis_url"), {})


class Provider:
    """Counts calls; each call takes ``delay_s`` and then answers ``response`` or raises ``error``."""

    def __init__(self, *, delay_s: float = 0.0, error: Exception | None = None,
                 response: StoredResponse = OK) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.error = error
        self.response = response

    async def __call__(self) -> StoredResponse:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.response


def store_on(cache: BaseCache) -> IdempotencyStore:
    return IdempotencyStore(cache=cache, ttl_s=60, wait_s=5)


def run(store: IdempotencyStore, produce: Callable[[], Awaitable[StoredResponse]], *, key: str = "k-1",
        body: object = None, client: str = "org:acme") -> Awaitable[tuple[StoredResponse, bool]]:
    return store.run(client_key=client, key=key, fingerprint=fingerprint(body or {"user": "hi"}), produce=produce)


@pytest.mark.anyio
async def test_the_first_answer_is_replayed_and_the_provider_called_once(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider()
    assert await run(store, provider) == (OK, False)
    assert await run(store, provider) == (OK, True)
    assert provider.calls == 1


@pytest.mark.anyio
async def test_the_same_key_with_another_body_is_refused(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider()
    await run(store, provider, body={"user": "hi"})
    with pytest.raises(IdempotencyKeyReused):
        await run(store, provider, body={"user": "bye"})
    assert provider.calls == 1


@pytest.mark.anyio
async def test_the_fingerprint_ignores_key_order_and_spacing() -> None:
    assert fingerprint({"user": "hi", "options": {"topP": 1, "temperature": 0}}) == fingerprint(
        {"options": {"temperature": 0, "topP": 1}, "user": "hi"})


@pytest.mark.anyio
async def test_keys_are_scoped_per_client(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider()
    await run(store, provider, client="org:acme")
    assert await run(store, provider, client="org:globex") == (OK, False)
    assert provider.calls == 2


@pytest.mark.anyio
async def test_a_repeat_during_the_first_attempt_waits_and_gets_its_answer(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider(delay_s=0.2)
    first, second = await asyncio.gather(run(store, provider), run(store, provider))
    assert provider.calls == 1
    assert sorted([first, second], key=lambda pair: pair[1]) == [(OK, False), (OK, True)]


async def running(provider: Provider) -> None:
    """Return once ``provider`` has been called: its caller holds the key's lock."""
    for _ in range(500):
        if provider.calls:
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the first attempt never reached the provider")


@pytest.mark.anyio
async def test_a_repeat_with_another_body_during_the_first_attempt_is_refused_at_once(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider(delay_s=30)
    first = asyncio.ensure_future(run(store, provider, body={"user": "hi"}))
    await running(provider)
    with pytest.raises(IdempotencyKeyReused):
        await asyncio.wait_for(run(store, provider, body={"user": "bye"}), timeout=2)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first


@pytest.mark.anyio
async def test_a_failed_attempt_is_not_stored_so_a_retry_runs(cache: BaseCache) -> None:
    store = store_on(cache)
    with pytest.raises(UpstreamError):
        await run(store, Provider(error=UpstreamError("boom")))
    retry = Provider()
    assert await run(store, retry) == (OK, False)
    assert retry.calls == 1


@pytest.mark.anyio
async def test_a_non_2xx_answer_is_not_stored(cache: BaseCache) -> None:
    store, provider = store_on(cache), Provider(response=StoredResponse(status=503, body=b"{}"))
    await run(store, provider)
    assert await run(store, provider) == (provider.response, False)
    assert provider.calls == 2


@pytest.mark.anyio
async def test_a_cancelled_first_attempt_releases_the_key(cache: BaseCache) -> None:
    store, slow = store_on(cache), Provider(delay_s=10)
    first = asyncio.ensure_future(run(store, slow))
    await running(slow)
    first.cancel()  # the client left, or the deadline passed
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(run(store, Provider()), timeout=1) == (OK, False)


@pytest.mark.anyio
async def test_a_waiter_that_outlives_its_bound_gives_up_without_sleeping_for_real(cache: BaseCache) -> None:
    now = [0.0]
    naps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    store, slow = store_on(cache), Provider(delay_s=10)
    first = asyncio.ensure_future(run(store, slow))
    await running(slow)
    waiter = IdempotencyStore(cache=cache, ttl_s=60, wait_s=2, clock=lambda: now[0], sleep=fake_sleep)
    with pytest.raises(DeadlineExceeded):
        await run(waiter, Provider())
    assert 2 <= sum(naps) < 2.2 and max(naps) == 0.05  # backs off, capped
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "tab\tkey", "ключ"])
async def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidRequest, match="Idempotency-Key"):
        await run(store_on(LocMemCache(uuid.uuid4().hex, {})), Provider(), key=key)


@pytest.mark.anyio
async def test_an_unreachable_cache_fails_open(free_port_url: str) -> None:
    store, provider = store_on(RedisCache(free_port_url, {})), Provider()
    assert await run(store, provider) == (OK, False)
    assert await run(store, provider) == (OK, False)
    assert provider.calls == 2


class HeldLockRedis(RedisCache):
    """Real Redis whose ``add`` (the lock) waits for the test, to land a cancellation inside it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered, self.release = threading.Event(), threading.Event()

    def add(self, *args: object, **kwargs: object) -> bool:
        self.entered.set()
        self.release.wait(10)
        return bool(super().add(*args, **kwargs))  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_request_cancelled_while_taking_the_lock_leaves_no_lock_behind(redis_url: str,
                                                                             redis_client: object) -> None:
    cache = HeldLockRedis(redis_url, {})
    first = asyncio.ensure_future(run(store_on(cache), Provider()))
    assert await asyncio.to_thread(cache.entered.wait, 10)  # inside add(): the request is about to be gone
    first.cancel()
    cache.release.set()  # Redis takes the lock for a request that is gone
    with pytest.raises(asyncio.CancelledError):
        await first  # re-raised only once the store has dropped that lock again
    retry = Provider()
    assert await asyncio.wait_for(run(store_on(RedisCache(redis_url, {})), retry), timeout=1) == (OK, False)
    assert retry.calls == 1
