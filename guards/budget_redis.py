"""Token budgets in Redis, shared by every process on one ``CACHE_URL``: one Lua script checks and
writes every window of a reservation atomically (Redis runs a script alone), so N processes never
overshoot. redis-py is reached through Django's Redis cache backend and imported only for it.

One hash per (client key, window): field ``used`` and one field ``r:<id>`` = ``<amount>:<expires ms>``
per live reservation. The hash expires just after its window ends; a reservation whose process died
is dropped by the next script that sees it past its expiry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from django.core.cache.backends.base import BaseCache

from guards.budget_store import Reservation, Tally, WindowSlot

if TYPE_CHECKING:
    from redis.commands.core import Script

# Kept a little after the window ends, so a process whose clock is a few seconds behind still finds it.
_GRACE_MS: Final = 5_000

# KEYS: one hash per window. ARGV: now_ms, id, amount, expires_ms, then per window: limit, ttl_ms.
# amount 0 only reads (and drops expired reservations). Returns {fits, used1, reserved1, used2, …}.
_RESERVE: Final = """
local now = tonumber(ARGV[1])
local amount = tonumber(ARGV[3])
local out = {1}
for i, key in ipairs(KEYS) do
  local used, reserved = 0, 0
  local flat = redis.call('HGETALL', key)
  for j = 1, #flat, 2 do
    if flat[j] == 'used' then
      used = tonumber(flat[j + 1])
    else
      local size, expires = string.match(flat[j + 1], '^(%d+):(%d+)$')
      if tonumber(expires) <= now then
        redis.call('HDEL', key, flat[j])
      else
        reserved = reserved + tonumber(size)
      end
    end
  end
  if used + reserved + amount > tonumber(ARGV[3 + 2 * i]) then out[1] = 0 end
  out[#out + 1] = used
  out[#out + 1] = reserved
end
if amount > 0 and out[1] == 1 then
  for i, key in ipairs(KEYS) do
    redis.call('HSET', key, 'r:' .. ARGV[2], ARGV[3] .. ':' .. ARGV[4])
    redis.call('PEXPIRE', key, ARGV[4 + 2 * i])
  end
end
return out
"""

# KEYS: the reservation's hashes. ARGV: id, cost, then per window: ttl_ms (<= 0: the window is over).
_SETTLE: Final = """
for i, key in ipairs(KEYS) do
  redis.call('HDEL', key, 'r:' .. ARGV[1])
  if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', key, 'used', ARGV[2]) end
  redis.call('PEXPIRE', key, ARGV[2 + i])
end
return 1
"""


class RedisBudgetStore:
    """Budgets in the Redis behind a Django ``RedisCache``; every call is one script run (EVALSHA)."""

    inline = False

    def __init__(self, cache: BaseCache) -> None:
        self._cache = cache
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        self._reserve: Script = client.register_script(_RESERVE)
        self._settle: Script = client.register_script(_SETTLE)

    def reserve(self, reservation: Reservation, *, now: float) -> tuple[bool, tuple[Tally, ...]]:
        return self._run(client_key=reservation.client_key, slots=reservation.slots, now=now,
                         rid=reservation.id, amount=reservation.amount, expires_at=reservation.expires_at)

    def settle(self, reservation: Reservation, *, cost: int, now: float) -> None:
        keys = [self._key(reservation.client_key, slot) for slot in reservation.slots]
        self._settle(keys=keys, args=[reservation.id, cost, *(_ttl_ms(slot, now) for slot in reservation.slots)])

    def tallies(self, *, client_key: str, slots: Sequence[WindowSlot], now: float) -> tuple[Tally, ...]:
        _, tallies = self._run(client_key=client_key, slots=slots, now=now, rid="-", amount=0, expires_at=now)
        return tallies

    def _run(self, *, client_key: str, slots: Sequence[WindowSlot], now: float, rid: str, amount: int,
             expires_at: float) -> tuple[bool, tuple[Tally, ...]]:
        args: list[Any] = [int(now * 1000), rid, amount, int(expires_at * 1000)]
        for slot in slots:
            args += [slot.window.limit, _ttl_ms(slot, now)]
        out = self._reserve(keys=[self._key(client_key, slot) for slot in slots], args=args)
        tallies = tuple(Tally(used=int(out[1 + 2 * i]), reserved=int(out[2 + 2 * i])) for i in range(len(slots)))
        return out[0] == 1, tallies

    def _key(self, client_key: str, slot: WindowSlot) -> str:
        # The braces keep one key's windows in one Redis Cluster slot.
        return str(self._cache.make_key(f"budget:{{{client_key}}}:{slot.window.name}:{slot.start}"))


def _ttl_ms(slot: WindowSlot, now: float) -> int:
    # Relative to the caller's clock (not Redis's): what counts is when the caller's window ends.
    return int((slot.end - now) * 1000) + _GRACE_MS
