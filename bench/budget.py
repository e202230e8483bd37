"""``python -m bench.budget``: what a token budget adds to one model call, on each store.

One "check" is what a budgeted request runs around its provider call: the prompt estimate, ``reserve``
(refusal check and write, every window) and ``settle``. Measured in-process on this process's memory and on
a real Redis (a private ``redis-server`` on loopback, or ``--redis URL``), one call at a time (latency) and
with 32 concurrent calls (throughput; on Redis each call is one script run in a worker thread).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from guards.budget import BudgetLimits, TokenBudget, budget_store_for
from guards.token_estimate import prompt_tokens

PROMPT = "Resuma em três frases o relatório trimestral de vendas e aponte os riscos. " * 12  # ~900 chars


def _budget(cache: BaseCache) -> TokenBudget:
    return TokenBudget(store=budget_store_for(cache), cache=cache, overrides={}, reservation_ttl_s=360,
                       default=BudgetLimits(per_minute=10**12, per_day=10**13))


async def _check(budget: TokenBudget, client_key: str) -> None:
    amount = prompt_tokens(user=PROMPT, system="Seja breve.") + 1024
    reservation = await budget.reserve(client_key=client_key, amount=amount)
    assert reservation is not None, "the store is unreachable"
    await budget.settle(reservation, cost=amount // 2)


async def _sequential(budget: TokenBudget, *, n: int) -> list[float]:
    key, times = f"org:bench-{uuid.uuid4().hex}", []
    for _ in range(n):
        started = time.perf_counter()
        await _check(budget, key)
        times.append(time.perf_counter() - started)
    return times


async def _concurrent(budget: TokenBudget, *, n: int, concurrency: int) -> float:
    key = f"org:bench-{uuid.uuid4().hex}"

    async def worker() -> None:
        for _ in range(n // concurrency):
            await _check(budget, key)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (n // concurrency) * concurrency / (time.perf_counter() - started)


def _row(name: str, times: list[float], rate: float) -> str:
    cuts = statistics.quantiles(times, n=100)
    return (f"| {name} | {statistics.median(times) * 1e6:.1f} | {cuts[98] * 1e6:.1f} | "
            f"{statistics.fmean(times) * 1e6:.1f} | {rate:,.0f} |")


async def _measure(name: str, cache: BaseCache, *, n: int) -> str:
    budget = _budget(cache)
    await _sequential(budget, n=min(200, n))  # warm-up: script loaded, pool connected, code paths hot
    times = await _sequential(budget, n=n)
    rate = await _concurrent(budget, n=n, concurrency=32)
    return _row(name, times, rate)


@contextmanager
def _redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server), or pass --redis URL")
    port = 6400 + uuid.uuid4().int % 1000
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_until_up(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, *, timeout_s: float = 10.0) -> None:
    import redis

    client, deadline = redis.Redis.from_url(url, socket_connect_timeout=0.2), time.monotonic() + timeout_s
    while True:
        try:
            client.ping()
            client.close()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.budget", description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="checks per store (default 5000)")
    parser.add_argument("--redis", help="a Redis URL to use instead of a private redis-server")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for _ in range(1000):
        prompt_tokens(user=PROMPT, system="Seja breve.")
    print(f"prompt estimate of {len(PROMPT)} chars: {(time.perf_counter() - started) * 1000:.2f} µs\n")
    print("| store | p50 µs | p99 µs | mean µs | checks/s at c=32 |\n|---|---|---|---|---|")
    print(asyncio.run(_measure("memory (LocMem)", LocMemCache("bench-budget", {}), n=args.n)))
    if args.redis:
        print(asyncio.run(_measure("Redis", RedisCache(args.redis, {}), n=args.n)))
        return
    with _redis_server() as url:
        print(asyncio.run(_measure("Redis (loopback, private redis-server)", RedisCache(url, {}), n=args.n)))

if __name__ == "__main__":
    main()
