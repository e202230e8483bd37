"""MultiAIWrapper: picks the provider and model, and owns the policies around every provider call:
short retries, fallback of the default route, deadlines (aborting the upstream call), and the callbacks
for metrics (the attempt loop itself is ``llm.fallback.Attempts``).

Imports only the standard library and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypeVar

from llm.errors import GatewayError, InvalidRequest
from llm.fallback import Attempts, Candidate, FallbackListener
from llm.ports import GenStream, ProviderPort, StreamOutcome
from llm.retry import RetryPolicy
from llm.types import PROVIDER_IDS, GenInput, GenOptions, GenResult, ProviderId
from llm.upstream import deadline_error, failure_code

T = TypeVar("T")
# Generous on purpose (providers have many models, OpenAI-compatible servers use "org/name"), but no
# whitespace and no "..": Gemini puts the model in the URL path.
_MODEL_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}")
# Gemini's model is a URL path segment (``models/<name>:generateContent``): one name, optionally with its
# resource prefix; a "/" or ":" more would address another path (a 404 that would look like the gateway's
# configuration error).
_GEMINI_MODEL_NAME: Final = re.compile(r"(?:models/|tunedModels/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class ProviderSource(Protocol):
    """What MultiAI needs from ``ProviderRegistry``."""

    def configured(self, pid: ProviderId) -> bool: ...

    def bind(self, pid: ProviderId, model: str) -> ProviderPort: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderInfo:
    """One row of ``GET /v1/providers``."""

    id: ProviderId
    configured: bool
    models: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """Return the contract's JSON shape."""
        return {"id": self.id, "configured": self.configured, "models": list(self.models)}


class MultiAIWrapper:
    """Route a generation to a provider, with short retries and deadlines.

    ``request_timeout_ms`` bounds a whole ``generate`` (all attempts), the wait for a stream's first
    chunk (all attempts) and each gap between chunks; ``stream_timeout_ms`` bounds a whole stream. Past
    a deadline the upstream request is closed and ``DeadlineExceeded`` raised. ``on_upstream_error`` is
    called with (provider, code) for each failed attempt: the HTTP status, or timeout/connect/stream.
    ``fallback`` is FALLBACK_PROVIDERS (known ids, no duplicate, not the default provider);
    ``on_fallback`` hears of every move from one provider to the next.
    """

    def __init__(
        self,
        *,
        registry: ProviderSource,
        models: Mapping[ProviderId, tuple[str, ...]],
        default_provider: ProviderId,
        default_model: str,
        request_timeout_ms: int,
        stream_timeout_ms: int,
        on_upstream_error: Callable[[ProviderId, str], None] | None = None,
        retry: RetryPolicy | None = None,
        fallback: Sequence[ProviderId] = (),
        on_fallback: FallbackListener | None = None,
    ) -> None:
        missing = [pid for pid in PROVIDER_IDS if not models.get(pid)]
        if missing or default_provider not in PROVIDER_IDS:
            raise ValueError(f"every provider needs models (missing: {missing}) and a known default")
        unique = set(fallback)
        if len(unique) != len(fallback) or default_provider in unique or not unique <= set(PROVIDER_IDS):
            raise ValueError("fallback: known providers, each once, without the default provider")
        self._fallback = tuple(fallback)
        self._on_fallback = on_fallback
        self._registry = registry
        self._models = {pid: tuple(models[pid]) for pid in PROVIDER_IDS}
        self._default_provider = default_provider
        self._default_model = default_model
        self._request_timeout_s = request_timeout_ms / 1000
        self._stream_timeout_s = stream_timeout_ms / 1000
        self._on_upstream_error = on_upstream_error
        self._retry = retry or RetryPolicy()

    @property
    def default(self) -> tuple[ProviderId, str]:
        """Return the provider and model used when a request names neither."""
        return self.resolve(provider=None, model=None)

    def resolve(self, *, provider: str | None, model: str | None) -> tuple[ProviderId, str]:
        """Return the provider and model for a request (docs/api.md: fall back to the defaults).

        Without a model, a provider uses DEFAULT_MODEL when that model is its own (listed, or the
        default provider's and listed nowhere else), else the first model of its list.
        """
        pid = self._provider_id(provider or self._default_provider)
        if model:
            if ".." in model or not _MODEL_NAME.fullmatch(model):
                raise InvalidRequest("model is not a valid model name")
            if pid == "gemini" and not _GEMINI_MODEL_NAME.fullmatch(model):
                raise InvalidRequest("model is not a valid Gemini model name")
            return pid, model
        default = self._default_model
        elsewhere = any(default in self._models[other] for other in PROVIDER_IDS if other != pid)
        if default in self._models[pid] or (pid == self._default_provider and not elsewhere):
            return pid, default
        return pid, self._models[pid][0]

    @property
    def fallback(self) -> tuple[ProviderId, ...]:
        """Return FALLBACK_PROVIDERS, in order (configured or not)."""
        return self._fallback

    def is_default_route(self, *, provider: str | None, model: str | None) -> bool:
        """Tell whether a request may fall back: it names no provider, and no model other than the default.

        A request that names another model is pinned to it: answering with another provider's model
        would substitute a model the user picked.
        """
        return bool(self._fallback) and not provider and (not model or model == self.default[1])

    def configured(self, pid: ProviderId) -> bool:
        """Tell whether ``pid`` has an API key."""
        return self._registry.configured(pid)

    def providers(self) -> list[ProviderInfo]:
        """Return every provider, configured or not, with its model list."""
        return [ProviderInfo(id=pid, configured=self.configured(pid), models=self._models[pid]) for pid in PROVIDER_IDS]

    def is_listed(self, pid: ProviderId, model: str) -> bool:
        """Tell whether ``model`` is in ``pid``'s configured list (bounds metric label values)."""
        return model in self._models.get(pid, ())

    async def generate(
        self, input: GenInput, options: GenOptions | None = None, *, provider: ProviderId, model: str,
        fallback: bool = False,
    ) -> GenResult:
        """Return the whole answer, retrying short failures within ``request_timeout_ms``.

        With ``fallback`` (the default route: see ``is_default_route``), a failure that another provider
        may not have moves on to the next configured provider of FALLBACK_PROVIDERS (``llm.fallback``).
        The ``GenResult`` names whoever served.
        """
        attempts = self._attempts(provider=provider, model=model, fallback=fallback,
                                  deadline=asyncio.get_running_loop().time() + self._request_timeout_s)

        def attempt(candidate: Candidate, deadline: float) -> Awaitable[GenResult]:
            port = self._registry.bind(candidate.provider, candidate.model)
            return self._within(port.generate(input, options), provider=candidate.provider, deadline=deadline)

        return await attempts.run(attempt)

    def stream(
        self, input: GenInput, options: GenOptions | None = None, *, provider: ProviderId, model: str,
        fallback: bool = False,
    ) -> GenStream:
        """Return the answer's text chunks. Nothing is sent before the first iteration.

        Raise ``ProviderNotConfigured`` at once when no provider of the route is configured; upstream
        failures surface from the first ``__anext__`` (retried, and with ``fallback`` moved on to the next
        provider, until the first chunk), or later mid-stream (never retried, never moved). The stream's
        ``provider``/``model`` name who produced the first chunk. Close the stream when done with it:
        that closes the upstream request.
        """
        route = self._route(provider=provider, model=model, fallback=fallback)
        outcome = StreamOutcome(provider=route[0].provider, model=route[0].model)
        return GenStream(self._chunks(route, input, options, origin=provider, outcome=outcome), outcome)

    async def aclose(self) -> None:
        """Close the providers' SDK clients."""
        await self._registry.aclose()

    def _route(self, *, provider: ProviderId, model: str, fallback: bool) -> list[Candidate]:
        """The configured providers a request may go to, in order; raise when there is none."""
        route = [Candidate(provider=provider, model=model)]
        if fallback:
            route += [Candidate(provider=pid, model=self.resolve(provider=pid, model=None)[1])
                      for pid in self._fallback if pid != provider]
        configured = [candidate for candidate in route if self.configured(candidate.provider)]
        if not configured:
            self._registry.bind(provider, model)  # raises ProviderNotConfigured
        return configured

    def _attempts(self, *, provider: ProviderId, model: str, fallback: bool, deadline: float) -> Attempts:
        return Attempts(route=self._route(provider=provider, model=model, fallback=fallback), origin=provider,
                        deadline=deadline, retry=self._retry, on_fallback=self._on_fallback)

    async def _chunks(
        self,
        route: list[Candidate],
        input: GenInput,
        options: GenOptions | None,
        *,
        origin: ProviderId,
        outcome: StreamOutcome,
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        end = loop.time() + self._stream_timeout_s
        first_deadline = min(loop.time() + self._request_timeout_s, end)
        attempts = Attempts(route=route, origin=origin, deadline=first_deadline, retry=self._retry,
                            on_fallback=self._on_fallback)

        async def first_chunk(candidate: Candidate, deadline: float) -> tuple[GenStream, str | None]:
            outcome.provider, outcome.model = candidate.provider, candidate.model
            inner = self._registry.bind(candidate.provider, candidate.model).stream(input, options)
            try:
                return inner, await self._next_chunk(inner, provider=candidate.provider, deadline=deadline)
            except BaseException:
                await inner.aclose()
                raise

        inner, chunk = await attempts.run(first_chunk)
        provider = outcome.provider or origin
        try:
            while chunk is not None:
                outcome.usage, outcome.finish_reason = inner.usage, inner.finish_reason
                yield chunk
                deadline = min(loop.time() + self._request_timeout_s, end)
                chunk = await self._next_chunk(inner, provider=provider, deadline=deadline)
            outcome.usage, outcome.finish_reason = inner.usage, inner.finish_reason
        finally:
            await inner.aclose()

    def _next_chunk(self, inner: GenStream, *, provider: ProviderId, deadline: float) -> Awaitable[str | None]:
        return self._within(anext(inner, None), provider=provider, deadline=deadline)

    async def _within(self, step: Awaitable[T], *, provider: ProviderId, deadline: float) -> T:
        """Await ``step``, cancelling it at ``deadline``: cancellation closes the upstream request.
        A failure (``DeadlineExceeded`` included) is reported to ``on_upstream_error`` and raised."""
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await step
        except TimeoutError:
            if not timeout.expired():
                raise
            error = deadline_error(provider=provider)
            self._report(error, provider=provider)
            raise error from None
        except GatewayError as exc:
            self._report(exc, provider=provider)
            raise

    def _report(self, exc: GatewayError, *, provider: ProviderId) -> None:
        if self._on_upstream_error is not None:
            self._on_upstream_error(provider, failure_code(exc))

    def _provider_id(self, name: str) -> ProviderId:
        for pid in PROVIDER_IDS:
            if pid == name:
                return pid
        raise InvalidRequest(f"unknown provider; expected one of {', '.join(PROVIDER_IDS)}")
