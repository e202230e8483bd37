"""GoBE's published keys (``AUTH_JWKS_URL``): fetched at start-up, kept in memory, fetched again for an
unknown ``kid`` at most once per ``refetch_after_s``, and in the background once they are ``max_age_s``
old. Every fetch is async (httpx2) and shared by the requests waiting on it, so the event loop never
blocks and a flood of forged ``kid``s costs GoBE one request a minute. Keys that cannot be fetched make
``key_for`` raise ``AuthUnavailable`` (503): never an open door."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import httpx2
import orjson
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWTError

from guards.bearer_keys import ASYMMETRIC_ALGORITHMS, VerificationKey, jwk_key
from guards.errors import AuthUnavailable

log = logging.getLogger("guards.auth")

MAX_JWKS_BYTES: Final = 1024 * 1024


class JwksFetchFailed(Exception):
    """The JWKS could not be fetched or held no usable signing key; the message says why."""


class JwksKeys:
    """A ``KeySource`` on a JWKS URL."""

    def __init__(self, *, url: str, refetch_after_s: float = 60.0, retry_after_failure_s: float = 5.0,
                 max_age_s: float = 600.0, timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.refetch_after_s = refetch_after_s
        self.retry_after_failure_s = retry_after_failure_s
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self.algorithms = ASYMMETRIC_ALGORITHMS
        self.fetches = 0  # attempts so far, for tests and curious operators
        self._clock = clock
        self._keys: dict[str, PyJWK] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The start-up fetch: a failure is one clear log line, and requests with a token get 503."""
        await self._refresh(at_start=True)

    async def key_for(self, *, kid: str | None, alg: str) -> VerificationKey:
        if self._keys is None and self._may_fetch(self.retry_after_failure_s):
            await self._refresh()
        if self._keys is None:
            raise AuthUnavailable("the keys that verify tokens cannot be fetched", retry_after_s=self._retry_in_s())
        if self._clock() - self._fetched_at > self.max_age_s and self._may_fetch(self.refetch_after_s):
            self._refresh_in_background()
        jwk = self._find(kid)
        if jwk is None and self._may_fetch(self.refetch_after_s):  # a key GoBE has just rotated in?
            await self._refresh()
            jwk = self._find(kid)
        if jwk is None:
            raise LookupError("unknown key id")
        if alg != jwk.algorithm_name:
            raise LookupError(f"algorithm {alg} does not match the key")
        return jwk_key(jwk)

    async def aclose(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()

    def _find(self, kid: str | None) -> PyJWK | None:
        keys = self._keys or {}
        if kid is None:  # a token without kid is accepted only when there is one key to mean
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    def _may_fetch(self, spacing_s: float) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= spacing_s

    def _retry_in_s(self) -> float:
        since = self._clock() - (self._attempted_at or 0.0)
        return max(1.0, self.retry_after_failure_s - since)

    async def _refresh(self, *, at_start: bool = False) -> None:
        """Fetch once for every request waiting now; a waiter that leaves does not cancel the fetch."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._fetch(at_start=at_start))
        await asyncio.shield(self._inflight)

    def _refresh_in_background(self) -> None:
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._fetch(at_start=False))

    async def _fetch(self, *, at_start: bool) -> None:
        self._attempted_at = self._clock()
        self.fetches += 1
        try:
            async with asyncio.timeout(self.timeout_s):
                keys = _signing_keys(await self._download())
        except (JwksFetchFailed, httpx2.HTTPError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            kept = "keeping the keys fetched before" if self._keys is not None else (
                "requests with a bearer token answer 503 auth_unavailable until it can be")
            (log.error if at_start or self._keys is None else log.warning)(
                "AUTH_JWKS_URL %s could not be fetched (%s): %s", _without_query(self.url), reason, kept)
            return
        self._keys, self._fetched_at = keys, self._clock()
        log.info("AUTH_JWKS_URL %s: %d signing keys", _without_query(self.url), len(keys))

    async def _download(self) -> Any:
        client = httpx2.AsyncClient(timeout=self.timeout_s, follow_redirects=False, trust_env=False)
        async with client, client.stream("GET", self.url, headers={"accept": "application/json"}) as response:
            if response.status_code != 200:
                raise JwksFetchFailed(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksFetchFailed("larger than 1 MiB")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise JwksFetchFailed("not JSON") from None


def _signing_keys(data: Any) -> dict[str, PyJWK]:
    """The asymmetric signing keys of a JWKS document, by ``kid`` (a lone key may have none)."""
    if not isinstance(data, dict):
        raise JwksFetchFailed("not a JWK Set")
    try:
        jwks = PyJWKSet.from_dict(data)
    except PyJWTError as exc:
        raise JwksFetchFailed(f"not a usable JWK Set: {exc}") from None
    usable = [k for k in jwks.keys if k.algorithm_name in ASYMMETRIC_ALGORITHMS and k.public_key_use in ("sig", None)]
    if not usable:
        raise JwksFetchFailed("no asymmetric signing key")
    if len(usable) == 1 and usable[0].key_id is None:
        return {"": usable[0]}
    return {k.key_id: k for k in usable if k.key_id is not None}


def _without_query(url: str) -> str:
    """The URL for a log line: no credentials, no query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
