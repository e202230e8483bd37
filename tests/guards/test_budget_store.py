"""TokenBudget on both stores (this process's memory, a real Redis): exact accounting, no overshoot under
concurrency, UTC windows on an injected clock, refusals, and reservations that outlive their process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from guards import BudgetLimits, TokenBudget
from guards.budget_redis import RedisBudgetStore
from guards.budget_store import BudgetStore, LocalBudgetStore, Reservation, Tally
from guards.errors import BudgetExceeded, BudgetUnavailable
from llm.errors import InvalidRequest
from tests.support.clock import Clock

MakeBudget = Callable[..., TokenBudget]


@pytest.fixture(params=["memory", "redis"])
def make_budget(request: pytest.FixtureRequest) -> MakeBudget:
    """Budgets on one shared store of the kind under test; every budget made shares it."""
    cache: BaseCache
    if request.param == "redis":
        request.getfixturevalue("redis_client")  # emptied Redis
        cache = RedisCache(request.getfixturevalue("redis_url"), {})
        store: BudgetStore = RedisBudgetStore(cache)
    else:
        cache, store = LocMemCache("budget-test", {}), LocalBudgetStore()

    def make(*, clock: Clock, per_minute: int | None = None, per_day: int | None = None,
             overrides: dict[str, BudgetLimits] | None = None, ttl_s: float = 400) -> TokenBudget:
        return TokenBudget(store=store, cache=cache, default=BudgetLimits(per_minute=per_minute, per_day=per_day),
                           overrides=overrides or {}, reservation_ttl_s=ttl_s, clock=clock)

    return make


def key() -> str:
    return "org:" + uuid.uuid4().hex


async def rows(budget: TokenBudget, client_key: str) -> list[tuple[str, int, int, int]]:
    return [(w.window, w.limit, w.used, w.reserved) for w in await budget.state(client_key)]


@pytest.mark.anyio
async def test_sequential_calls_are_counted_exactly_until_one_does_not_fit(make_budget: MakeBudget) -> None:
    budget, client = make_budget(clock=Clock(), per_minute=100, per_day=1000), key()
    for _ in range(3):
        held = await budget.reserve(client_key=client, amount=30)
        assert held is not None
        await budget.settle(held, cost=25)
    assert await rows(budget, client) == [("minute", 100, 75, 0), ("day", 1000, 75, 0)]
    held = await budget.reserve(client_key=client, amount=25)  # exactly what is left
    assert held is not None
    assert await rows(budget, client) == [("minute", 100, 75, 25), ("day", 1000, 75, 25)]
    with pytest.raises(BudgetExceeded) as refused:
        await budget.reserve(client_key=client, amount=1)
    assert refused.value.retry_after_s == pytest.approx(50)  # the end of the minute
    await budget.settle(held, cost=0)
    assert await rows(budget, client) == [("minute", 100, 75, 0), ("day", 1000, 75, 0)]


@pytest.mark.anyio
async def test_concurrent_reservations_never_exceed_the_budget(make_budget: MakeBudget) -> None:
    budget, client = make_budget(clock=Clock(), per_minute=1000), key()
    results = await asyncio.gather(*(budget.reserve(client_key=client, amount=70) for _ in range(40)),
                                   return_exceptions=True)
    held = [r for r in results if not isinstance(r, BaseException)]
    assert len(held) == 14  # 14 × 70 = 980; a 15th would overshoot
    assert all(isinstance(r, BudgetExceeded) for r in results if isinstance(r, BaseException))
    assert await rows(budget, client) == [("minute", 1000, 0, 980)]


def test_budgets_in_many_threads_on_one_store_never_overshoot(make_budget: MakeBudget) -> None:
    """Several budgets (as processes would have) on one store, reserving from threads at once."""
    clock, client = Clock(), key()
    budgets = [make_budget(clock=clock, per_day=5000) for _ in range(4)]
    start = threading.Barrier(4)

    def hammer(budget: TokenBudget) -> int:
        async def run() -> int:
            start.wait(5)
            won = 0
            for _ in range(25):
                with contextlib.suppress(BudgetExceeded):
                    won += await budget.reserve(client_key=client, amount=97) is not None
            return won

        return asyncio.run(run())

    with ThreadPoolExecutor(4) as pool:
        won = sum(pool.map(hammer, budgets))
    assert won == 5000 // 97


@pytest.mark.anyio
async def test_a_new_minute_starts_afresh_and_the_day_remembers(make_budget: MakeBudget) -> None:
    clock = Clock()
    budget, client = make_budget(clock=clock, per_minute=100, per_day=150), key()
    held = await budget.reserve(client_key=client, amount=90)
    assert held is not None
    await budget.settle(held, cost=90)
    with pytest.raises(BudgetExceeded):
        await budget.reserve(client_key=client, amount=20)
    clock.now += 50  # the next minute
    assert await rows(budget, client) == [("minute", 100, 0, 0), ("day", 150, 90, 0)]
    assert (await budget.state(client))[0].reset_s == 60
    assert await budget.reserve(client_key=client, amount=60) is not None
    with pytest.raises(BudgetExceeded) as refused:
        await budget.reserve(client_key=client, amount=1)
    assert refused.value.retry_after_s == pytest.approx(12 * 3600 - 60)  # the day is full: until midnight UTC


@pytest.mark.anyio
async def test_reservations_of_a_dead_process_expire(make_budget: MakeBudget) -> None:
    clock = Clock()
    budget, client = make_budget(clock=clock, per_day=100, ttl_s=300), key()
    assert await budget.reserve(client_key=client, amount=80) is not None  # never settled
    with pytest.raises(BudgetExceeded):
        await budget.reserve(client_key=client, amount=30)
    clock.now += 301
    assert await rows(budget, client) == [("day", 100, 0, 0)]
    assert await budget.reserve(client_key=client, amount=100) is not None


@pytest.mark.anyio
async def test_a_call_larger_than_a_whole_window_is_invalid(make_budget: MakeBudget) -> None:
    budget = make_budget(clock=Clock(), per_minute=100, per_day=10_000)
    with pytest.raises(InvalidRequest, match=r"up to 101 tokens, more than the per-minute token budget \(100\)"):
        await budget.reserve(client_key=key(), amount=101)


@pytest.mark.anyio
async def test_overrides_give_one_key_more_and_another_none(make_budget: MakeBudget) -> None:
    overrides = {"org:acme": BudgetLimits(per_minute=None, per_day=500), "org:blocked": BudgetLimits(per_day=0)}
    budget = make_budget(clock=Clock(), per_minute=100, overrides=overrides)
    assert await budget.reserve(client_key="org:acme", amount=400) is not None
    with pytest.raises(InvalidRequest, match="per-day token budget"):
        await budget.reserve(client_key="org:blocked", amount=1)
    assert await rows(budget, "org:acme") == [("day", 500, 0, 400)]
    assert await rows(budget, "org:other") == [("minute", 100, 0, 0)]


@pytest.mark.anyio
async def test_no_budget_means_no_reservation_and_no_windows(make_budget: MakeBudget) -> None:
    budget = make_budget(clock=Clock())
    assert not budget.enabled
    assert await budget.reserve(client_key=key(), amount=10**9) is None
    assert await budget.state(key()) == []


@pytest.mark.anyio
async def test_a_settle_that_cannot_wait_is_applied(make_budget: MakeBudget) -> None:
    budget, client = make_budget(clock=Clock(), per_minute=100), key()
    held = await budget.reserve(client_key=client, amount=60)
    assert held is not None
    budget.settle_soon(held, cost=7)
    for _ in range(200):  # a task of its own on Redis: let it run
        if (await budget.state(client))[0].reserved == 0:
            break
        await asyncio.sleep(0.005)
    assert await rows(budget, client) == [("minute", 100, 7, 0)]


@pytest.mark.anyio
async def test_an_unreachable_redis_fails_open(free_port_url: str) -> None:
    cache = RedisCache(free_port_url, {})
    budget = TokenBudget(store=RedisBudgetStore(cache), cache=cache, default=BudgetLimits(per_minute=10),
                         overrides={}, reservation_ttl_s=60, clock=Clock())
    assert await budget.reserve(client_key=key(), amount=5) is None


@pytest.mark.anyio
async def test_an_unreachable_redis_makes_the_budget_state_unavailable_not_an_internal_error(
        free_port_url: str) -> None:
    cache = RedisCache(free_port_url, {})
    budget = TokenBudget(store=RedisBudgetStore(cache), cache=cache, default=BudgetLimits(per_minute=10),
                         overrides={}, reservation_ttl_s=60, clock=Clock())
    with pytest.raises(BudgetUnavailable):
        await budget.state(key())


def test_the_redis_store_keeps_one_hash_per_window_that_expires(redis_url: str, redis_client: redis.Redis) -> None:
    async def run() -> None:
        cache = RedisCache(redis_url, {})
        budget = TokenBudget(store=RedisBudgetStore(cache), cache=cache,
                             default=BudgetLimits(per_minute=10, per_day=20), overrides={},
                             reservation_ttl_s=60, clock=Clock())
        assert await budget.reserve(client_key="org:acme", amount=5) is not None

    asyncio.run(run())
    keys = sorted(k.decode() for k in redis_client.keys("*budget*"))
    assert [k.split(":")[-2] for k in keys] == ["day", "minute"]
    assert all(redis_client.pttl(k) > 0 for k in keys)


class HeldStore(LocalBudgetStore):
    """A network-like store (run in a worker thread) whose ``reserve`` waits for the test's go."""

    inline = False

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.go = threading.Event(), threading.Event()

    def reserve(self, reservation: Reservation, *, now: float) -> tuple[bool, tuple[Tally, ...]]:
        self.entered.set()
        self.go.wait(5)
        return super().reserve(reservation, now=now)


@pytest.mark.anyio
async def test_a_request_cancelled_while_the_store_reserves_gives_the_tokens_back(free_port_url: str) -> None:
    store, client = HeldStore(), key()
    budget = TokenBudget(store=store, cache=RedisCache(free_port_url, {}), default=BudgetLimits(per_minute=100),
                         overrides={}, reservation_ttl_s=60, clock=Clock())
    request = asyncio.create_task(budget.reserve(client_key=client, amount=70))
    assert await asyncio.to_thread(store.entered.wait, 5)
    request.cancel()
    store.go.set()  # the store takes the reservation after the request is gone
    with pytest.raises(asyncio.CancelledError):
        await request
    assert await rows(budget, client) == [("minute", 100, 0, 0)]
