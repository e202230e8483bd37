"""MultiAIWrapper: picks the provider and model, and owns the policies around every provider call:
short retries, deadlines (aborting the upstream call), and the failure callback for metrics.

Imports only the standard library and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Final, Protocol, TypeVar

from llm.errors import GatewayError, InvalidRequest
from llm.ports import GenStream, ProviderPort, StreamOutcome
from llm.retry import RetryPolicy
from llm.types import PROVIDER_IDS, GenInput, GenOptions, GenResult, ProviderId
from llm.upstream import deadline_error, failure_code

T = TypeVar("T")
# Generous on purpose (providers have many models, OpenAI-compatible servers use "org/name"), but no
# whitespace and no "..": Gemini puts the model in the URL path.
_MODEL_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}")


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
    ) -> None:
        missing = [pid for pid in PROVIDER_IDS if not models.get(pid)]
        if missing or default_provider not in PROVIDER_IDS:
            raise ValueError(f"every provider needs models (missing: {missing}) and a known default")
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
        """Return the provider and model for a request (API.md: fall back to the defaults).

        Without a model, a provider uses DEFAULT_MODEL when that model is its own (listed, or the
        default provider's and listed nowhere else), else the first model of its list.
        """
        pid = self._provider_id(provider or self._default_provider)
        if model:
            if ".." in model or not _MODEL_NAME.fullmatch(model):
                raise InvalidRequest("model is not a valid model name")
            return pid, model
        default = self._default_model
        elsewhere = any(default in self._models[other] for other in PROVIDER_IDS if other != pid)
        if default in self._models[pid] or (pid == self._default_provider and not elsewhere):
            return pid, default
        return pid, self._models[pid][0]

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
        self, input: GenInput, options: GenOptions | None = None, *, provider: ProviderId, model: str
    ) -> GenResult:
        """Return the whole answer, retrying short failures within ``request_timeout_ms``."""
        port = self._registry.bind(provider, model)
        deadline = asyncio.get_running_loop().time() + self._request_timeout_s
        for retries_done in count():
            try:
                return await self._within(port.generate(input, options), provider=provider, deadline=deadline)
            except GatewayError as exc:
                self._report(exc, provider=provider)
                await self._pause_or_raise(exc, retries_done=retries_done, deadline=deadline)
        raise AssertionError("unreachable")  # pragma: no cover - count() never ends

    def stream(
        self, input: GenInput, options: GenOptions | None = None, *, provider: ProviderId, model: str
    ) -> GenStream:
        """Return the answer's text chunks. Nothing is sent before the first iteration.

        Raise ``ProviderNotConfigured`` at once; upstream failures surface from the first ``__anext__``
        (retried until the first chunk), or later mid-stream (never retried). Close the stream when done
        with it: that closes the upstream request.
        """
        port = self._registry.bind(provider, model)
        outcome = StreamOutcome()
        return GenStream(self._chunks(port, input, options, provider=provider, outcome=outcome), outcome)

    async def aclose(self) -> None:
        """Close the providers' SDK clients."""
        await self._registry.aclose()

    async def _chunks(
        self,
        port: ProviderPort,
        input: GenInput,
        options: GenOptions | None,
        *,
        provider: ProviderId,
        outcome: StreamOutcome,
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        end = loop.time() + self._stream_timeout_s
        first_deadline = min(loop.time() + self._request_timeout_s, end)
        inner, chunk = await self._first_chunk(port, input, options, provider=provider, deadline=first_deadline)
        try:
            while chunk is not None:
                outcome.usage, outcome.finish_reason = inner.usage, inner.finish_reason
                yield chunk
                deadline = min(loop.time() + self._request_timeout_s, end)
                chunk = await self._next_chunk(inner, provider=provider, deadline=deadline)
            outcome.usage, outcome.finish_reason = inner.usage, inner.finish_reason
        finally:
            await inner.aclose()

    async def _first_chunk(
        self,
        port: ProviderPort,
        input: GenInput,
        options: GenOptions | None,
        *,
        provider: ProviderId,
        deadline: float,
    ) -> tuple[GenStream, str | None]:
        for retries_done in count():
            inner = port.stream(input, options)
            try:
                return inner, await self._next_chunk(inner, provider=provider, deadline=deadline)
            except GatewayError as exc:
                await inner.aclose()
                await self._pause_or_raise(exc, retries_done=retries_done, deadline=deadline)
            except BaseException:
                await inner.aclose()
                raise
        raise AssertionError("unreachable")  # pragma: no cover - count() never ends

    async def _next_chunk(self, inner: GenStream, *, provider: ProviderId, deadline: float) -> str | None:
        try:
            return await self._within(anext(inner, None), provider=provider, deadline=deadline)
        except GatewayError as exc:
            self._report(exc, provider=provider)
            raise

    async def _within(self, step: Awaitable[T], *, provider: ProviderId, deadline: float) -> T:
        """Await ``step``, cancelling it at ``deadline``: cancellation closes the upstream request."""
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await step
        except TimeoutError:
            if timeout.expired():
                raise deadline_error(provider=provider) from None
            raise

    async def _pause_or_raise(self, exc: GatewayError, *, retries_done: int, deadline: float) -> None:
        remaining_s = deadline - asyncio.get_running_loop().time()
        delay_s = self._retry.delay_s(failure=exc, retries_done=retries_done, remaining_s=remaining_s)
        if delay_s is None:
            raise exc
        await asyncio.sleep(delay_s)

    def _report(self, exc: GatewayError, *, provider: ProviderId) -> None:
        if self._on_upstream_error is not None:
            self._on_upstream_error(provider, failure_code(exc))

    def _provider_id(self, name: str) -> ProviderId:
        for pid in PROVIDER_IDS:
            if pid == name:
                return pid
        raise InvalidRequest(f"unknown provider; expected one of {', '.join(PROVIDER_IDS)}")
