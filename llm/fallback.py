"""One request's upstream attempts: the providers of its route in order (the default route may fall back to
FALLBACK_PROVIDERS), short retries, at most 3 upstream calls and one shared deadline.

Imports only the standard library and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

from llm.errors import DeadlineExceeded, GatewayError, UpstreamError
from llm.retry import RetryPolicy
from llm.types import ProviderId

T = TypeVar("T")

# Every upstream call of one request counts, retries and fallbacks together.
MAX_CALLS_PER_REQUEST: Final = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One provider of a route, bound to the model it is asked for."""

    provider: ProviderId
    model: str


class FallbackListener(Protocol):
    """Told each time a request moves from one provider of its route to the next."""

    def __call__(self, *, origin: ProviderId, from_provider: ProviderId, to: Candidate) -> None: ...


def falls_back(exc: GatewayError) -> bool:
    """Tell whether another provider may succeed where this one failed: any upstream failure (no
    connection, 429, 5xx, refused credentials, a broken answer) or silence. Never a client's fault."""
    return isinstance(exc, UpstreamError | DeadlineExceeded)


class Attempts:
    """Run one request's attempts over ``route``, in order, until one succeeds.

    - Calls: at most ``max_calls`` in all. A provider with another after it keeps one call for it, so
      on a two-provider route the first gets one retry, then the second its chance.
    - Time: everything ends by ``deadline``. A provider with another after it gets half of the time left
      (its retries included); the last one gets all that is left.
    - Retries follow ``retry``; on a provider with another after it, a ``Retry-After`` longer than the
      policy's cap (or than the time left) moves on at once rather than waits.
    - Moving on: only after a failure that ``falls_back`` and while calls and time are left; otherwise the
      last failure is raised. ``on_fallback`` hears of every move (also from an ``origin`` that is not
      in the route because it is not configured).
    """

    def __init__(
        self,
        *,
        route: Sequence[Candidate],
        origin: ProviderId,
        deadline: float,
        retry: RetryPolicy,
        on_fallback: FallbackListener | None = None,
        max_calls: int = MAX_CALLS_PER_REQUEST,
    ) -> None:
        if not route:
            raise ValueError("a route needs at least one provider")
        self._route = tuple(route)
        self._origin = origin
        self._deadline = deadline
        self._retry = retry
        self._on_fallback = on_fallback
        self._calls_left = max_calls

    def run(self, attempt: Callable[[Candidate, float], Awaitable[T]]) -> Awaitable[T]:
        """Return the first success of ``attempt(candidate, its_deadline)``, or raise the last failure."""
        route = self._route
        if len(route) == 1 and route[0].provider == self._origin:  # no fallback: no layer more than the retries
            return self._provider(attempt, route[0], has_next=False)
        return self._run_route(attempt)

    async def _run_route(self, attempt: Callable[[Candidate, float], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        previous = self._origin
        last = len(self._route) - 1
        for index, candidate in enumerate(self._route):
            if candidate.provider != previous:
                self._moved(from_provider=previous, to=candidate)
            previous = candidate.provider
            has_next = index < last
            try:
                return await self._provider(attempt, candidate, has_next=has_next)
            except GatewayError as exc:
                time_left = loop.time() < self._deadline
                if not (has_next and self._calls_left > 0 and time_left and falls_back(exc)):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the last candidate raises or returns

    async def _provider(self, attempt: Callable[[Candidate, float], Awaitable[T]], candidate: Candidate,
                        *, has_next: bool) -> T:
        """Try one provider with its short retries, within its share of calls and time."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + (self._deadline - now) / 2 if has_next else self._deadline
        own_calls = self._calls_left - (1 if has_next else 0)
        retries_done = 0
        while True:
            own_calls -= 1
            self._calls_left -= 1
            try:
                return await attempt(candidate, deadline)
            except GatewayError as exc:
                delay_s = None if own_calls <= 0 else self._retry.delay_s(
                    failure=exc, retries_done=retries_done, remaining_s=deadline - loop.time(),
                    may_move_on=has_next)
                if delay_s is None:
                    raise
            await asyncio.sleep(delay_s)
            retries_done += 1

    def _moved(self, *, from_provider: ProviderId, to: Candidate) -> None:
        if self._on_fallback is not None:
            self._on_fallback(origin=self._origin, from_provider=from_provider, to=to)
