"""Token budgets per client key: reserve the most a call can cost before it, settle what it cost after.

``TokenBudget`` owns the policy (which windows a key has, what never fits, what a refusal says, failing
open when the cache is down; ``BudgetExceeded``); a ``BudgetStore`` (budget_store.py, budget_redis.py) keeps the state.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, ParamSpec, TypeVar

from django.core.cache.backends.base import BaseCache

from guards.budget_store import (
    DAY_S,
    MINUTE_S,
    BudgetStore,
    LocalBudgetStore,
    Reservation,
    Tally,
    WindowLimit,
    WindowSlot,
)
from guards.cache_io import CacheRunner
from guards.errors import BudgetExceeded, BudgetUnavailable
from llm.errors import InvalidRequest

P = ParamSpec("P")
T = TypeVar("T")

_WINDOW_TEXT: Final = {"minute": "per-minute", "day": "per-day"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetLimits:
    """Tokens per UTC minute and per UTC day; ``None`` means no limit in that window."""

    per_minute: int | None = None
    per_day: int | None = None

    def windows(self) -> tuple[WindowLimit, ...]:
        pairs = (("minute", MINUTE_S, self.per_minute), ("day", DAY_S, self.per_day))
        return tuple(WindowLimit(name=name, length_s=length_s, limit=limit)
                     for name, length_s, limit in pairs if limit is not None)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowState:
    """One row of ``GET /v1/budget``."""

    window: str
    limit: int
    used: int
    reserved: int
    reset_s: float

    def to_json(self) -> dict[str, object]:
        return {"window": self.window, "limit": self.limit, "used": self.used, "reserved": self.reserved,
                "resetS": max(0, int(self.reset_s + 0.999))}


def budget_store_for(cache: BaseCache) -> BudgetStore:
    """Redis behind a Redis cache (shared by every process), else this process's memory."""
    from django.core.cache.backends.redis import RedisCache  # imports no redis-py by itself

    if isinstance(cache, RedisCache):
        from guards.budget_redis import RedisBudgetStore

        return RedisBudgetStore(cache)
    return LocalBudgetStore()


class TokenBudget:
    """Budgets of every client key: ``default`` limits, or the key's entry in ``overrides``.

    A reservation lives at most ``reservation_ttl_s`` (longer than any call may run), so the reservations
    of a process that died stop counting then, and with their window at the latest.
    """

    def __init__(self, *, store: BudgetStore, cache: BaseCache, default: BudgetLimits,
                 overrides: Mapping[str, BudgetLimits], reservation_ttl_s: float,
                 clock: Callable[[], float] = time.time,
                 on_rejected: Callable[[str], None] | None = None) -> None:
        self.store = store
        self._windows = default.windows()
        self._overrides = {key: limits.windows() for key, limits in overrides.items()}
        self.enabled = bool(self._windows) or bool(self._overrides)
        self.reservation_ttl_s = reservation_ttl_s
        self._clock = clock
        self._on_rejected = on_rejected
        self._runner = CacheRunner(cache)
        self._pending: set[asyncio.Task[None]] = set()

    def windows_for(self, client_key: str) -> tuple[WindowLimit, ...]:
        return self._overrides.get(client_key, self._windows)

    async def reserve(self, *, client_key: str, amount: int) -> Reservation | None:
        """Hold ``amount`` tokens in every window of ``client_key``.

        Return None when the key has no budget, or the store is unreachable (fail open, logged). Raise
        ``InvalidRequest`` when ``amount`` exceeds a whole window, ``BudgetExceeded`` when it does not fit
        what is left now (``retry_after_s``: the end of the last window that is too full).
        """
        windows = self.windows_for(client_key)
        if not windows:
            return None
        for window in windows:
            if amount > window.limit:
                raise InvalidRequest(f"this call may use up to {amount} tokens, more than the "
                                     f"{_WINDOW_TEXT[window.name]} token budget ({window.limit})")
        now = self._clock()
        reservation = Reservation(id=uuid.uuid4().hex, client_key=client_key, amount=amount,
                                  slots=tuple(WindowSlot(window=w, start=w.start(now)) for w in windows),
                                  expires_at=now + self.reservation_ttl_s)
        try:
            fits, tallies = await self._reserve(reservation, now=now)
        except self._runner.errors as exc:
            self._runner.report_outage(exc, guard="token budget")
            return None
        if fits:
            return reservation
        full = [slot for slot, tally in zip(reservation.slots, tallies, strict=True)
                if tally.used + tally.reserved + amount > slot.window.limit]
        for slot in full:
            if self._on_rejected is not None:
                self._on_rejected(slot.window.name)
        last = max(full, key=lambda slot: slot.end)
        raise BudgetExceeded(f"token budget exceeded: the {_WINDOW_TEXT[last.window.name]} budget has no room "
                             f"for {amount} more tokens", retry_after_s=last.end - now)

    async def _reserve(self, reservation: Reservation, *, now: float) -> tuple[bool, tuple[Tally, ...]]:
        if self.store.inline:  # no await between the check and the write
            return self.store.reserve(reservation, now=now)
        attempt = asyncio.ensure_future(self._call(self.store.reserve, reservation, now=now))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # The request went away while the store answered: a reservation nobody settles would hold
            # its tokens until it expires.
            try:
                fits, _ = await attempt
            except Exception:
                fits = False
            if fits:
                await self.settle(reservation, cost=0)
            raise

    async def settle(self, reservation: Reservation, *, cost: int) -> None:
        """Replace the reservation by ``cost`` tokens; the rest is free at once."""
        try:
            await self._call(self.store.settle, reservation, cost=max(0, cost), now=self._clock())
        except self._runner.errors as exc:  # the reservation expires on its own
            self._runner.report_outage(exc, guard="token budget")

    def settle_soon(self, reservation: Reservation, *, cost: int) -> None:
        """``settle`` without waiting: at once in memory, else in a task kept until it ends."""
        if self.store.inline:
            self.store.settle(reservation, cost=max(0, cost), now=self._clock())
            return
        task = asyncio.get_running_loop().create_task(self.settle(reservation, cost=cost))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Memory inline; a network store in a worker thread, through the guards' outage handling."""
        if self.store.inline:
            return fn(*args, **kwargs)
        return await self._runner.run(fn, *args, **kwargs)

    async def state(self, client_key: str) -> list[WindowState]:
        """The windows of ``client_key`` now: limit, used, reserved, seconds to reset ([] with no budget)."""
        windows = self.windows_for(client_key)
        if not windows:
            return []
        now = self._clock()
        slots = [WindowSlot(window=w, start=w.start(now)) for w in windows]
        try:
            tallies = await self._call(self.store.tallies, client_key=client_key, slots=slots, now=now)
        except self._runner.errors as exc:
            self._runner.report_outage(exc, guard="token budget")
            raise BudgetUnavailable("token budget state unavailable") from exc
        return [WindowState(window=slot.window.name, limit=slot.window.limit, used=tally.used,
                            reserved=tally.reserved, reset_s=slot.end - now)
                for slot, tally in zip(slots, tallies, strict=True)]
