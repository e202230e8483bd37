"""``Idempotency-Key``: the first successful response per (client key, key) is kept ``ttl_s`` and replayed;
a repeat that arrives while the first still runs waits for it, so the provider is called once.

State lives in the Django cache: the answer under one key, an in-flight lock (atomic ``add``) under
another, so with Redis every process shares both. A failed attempt stores nothing and drops the lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.core.cache.backends.base import BaseCache

from guards.cache_io import CacheRunner
from guards.errors import IdempotencyKeyReused
from llm.errors import DeadlineExceeded, InvalidRequest

REPLAYED_HEADER: Final = "Idempotent-Replayed"
# Visible ASCII only, like the IETF draft's examples (UUIDs, ULIDs, base64 tokens).
_VALID_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredResponse:
    """What a repeat gets back: status, the headers worth replaying, and the body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_cache(self) -> dict[str, Any]:
        # Plain types, not this class: a rolling deploy may read entries written by other code.
        return {"status": self.status, "body": self.body, "headers": dict(self.headers)}

    @classmethod
    def from_cache(cls, value: Mapping[str, Any]) -> StoredResponse:
        return cls(status=value["status"], body=value["body"], headers=value["headers"])


def fingerprint(body: Any) -> str:
    """sha256 of the canonical JSON of a request body: key order and spacing do not matter."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    if not _VALID_KEY.fullmatch(key):
        raise InvalidRequest("Idempotency-Key: 1 to 255 visible ASCII characters")
    return key


class IdempotencyStore:
    """Run ``produce`` once per (client key, key); replay its answer to every repeat."""

    def __init__(self, *, cache: BaseCache, ttl_s: int, wait_s: float, poll_s: tuple[float, float] = (0.005, 0.05),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        # The lock outlives the longest legitimate first attempt, and expires if its process dies.
        self.lock_ttl_s = math.ceil(wait_s) + 1
        self._poll_s = poll_s
        self._clock = clock
        self._sleep = sleep
        self._runner = CacheRunner(cache)

    async def run(self, *, client_key: str, key: str, fingerprint: str,
                  produce: Callable[[], Awaitable[StoredResponse]]) -> tuple[StoredResponse, bool]:
        """Return the response and whether it was replayed.

        Raises ``InvalidRequest`` for a malformed key, ``IdempotencyKeyReused`` for the same key with
        another body, ``DeadlineExceeded`` when the first attempt outlasts ``wait_s``.
        """
        slot = _slot(client_key=client_key, key=validate_key(key))
        try:
            claim = await self._claim(slot, fingerprint=fingerprint)
        except self._runner.errors as exc:
            self._runner.report_outage(exc, guard="idempotency")
            return await produce(), False
        if isinstance(claim, StoredResponse):
            return claim, True
        return await self._produce(slot, claim=claim, fingerprint=fingerprint, produce=produce), False

    async def _claim(self, slot: str, *, fingerprint: str) -> StoredResponse | str:
        """The stored answer, or a lock token once this request owns the key; waits while another does."""
        give_up = self._clock() + self.wait_s
        pause_s, max_pause_s = self._poll_s
        token = uuid.uuid4().hex
        while True:
            stored = await self._stored(slot, fingerprint=fingerprint)
            if stored is not None:
                return stored
            if await self._take_lock(slot, token=token, fingerprint=fingerprint):
                return await self._recheck(slot, token=token, fingerprint=fingerprint)
            holder = await self._runner.run(self._cache.get, _lock_key(slot))
            if holder is not None and holder["fingerprint"] != fingerprint:
                raise IdempotencyKeyReused("Idempotency-Key already used with a different body")
            if self._clock() >= give_up:
                raise DeadlineExceeded("the first request with this Idempotency-Key is still running")
            await self._sleep(pause_s)
            pause_s = min(pause_s * 2, max_pause_s)

    async def _take_lock(self, slot: str, *, token: str, fingerprint: str) -> bool:
        value = {"token": token, "fingerprint": fingerprint}
        attempt = asyncio.ensure_future(self._runner.run(self._cache.add, _lock_key(slot), value, self.lock_ttl_s))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # Cancelled while Redis answered: a lock taken for a request that is gone would hold every
            # repeat off until it expires.
            if await attempt:
                await self._release(slot, token=token)
            raise

    async def _recheck(self, slot: str, *, token: str, fingerprint: str) -> StoredResponse | str:
        """Holding the lock: the first attempt may have stored its answer and dropped its lock just now."""
        try:
            stored = await self._stored(slot, fingerprint=fingerprint)
        except BaseException:
            await self._release(slot, token=token)
            raise
        if stored is None:
            return token
        await self._release(slot, token=token)
        return stored

    async def _produce(self, slot: str, *, claim: str, fingerprint: str,
                       produce: Callable[[], Awaitable[StoredResponse]]) -> StoredResponse:
        try:
            response = await produce()
            if 200 <= response.status < 300:
                await self._store(slot, fingerprint=fingerprint, response=response)
        finally:
            # After the store, never before: a waiter that finds no lock must find the answer.
            await self._release(slot, token=claim)
        return response

    async def _store(self, slot: str, *, fingerprint: str, response: StoredResponse) -> None:
        entry = {"fingerprint": fingerprint, "response": response.to_cache()}
        try:
            await self._runner.run(self._cache.set, _answer_key(slot), entry, self.ttl_s)
        except self._runner.errors as exc:  # the answer still goes out; a repeat will run again
            self._runner.report_outage(exc, guard="idempotency")

    async def _stored(self, slot: str, *, fingerprint: str) -> StoredResponse | None:
        entry = await self._runner.run(self._cache.get, _answer_key(slot))
        if entry is None:
            return None
        if entry["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("Idempotency-Key already used with a different body")
        return StoredResponse.from_cache(entry["response"])

    async def _release(self, slot: str, *, token: str) -> None:
        try:
            holder = await self._runner.run(self._cache.get, _lock_key(slot))
            if holder is not None and holder["token"] == token:
                await self._runner.run(self._cache.delete, _lock_key(slot))
        except self._runner.errors as exc:  # the lock expires on its own
            self._runner.report_outage(exc, guard="idempotency")

    @property
    def _cache(self) -> BaseCache:
        return self._runner.cache


def _slot(*, client_key: str, key: str) -> str:
    # Hashed: cache keys stay short and safe whatever the client sent; scoped so two clients never meet.
    return hashlib.sha256(f"{client_key}\n{key}".encode()).hexdigest()


def _answer_key(slot: str) -> str:
    return f"idem:{slot}"


def _lock_key(slot: str) -> str:
    return f"idem-lock:{slot}"
