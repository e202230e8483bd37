"""The provider port (docs/api.md § Types) and the stream it returns.

Imports only the standard library and ``llm.types``: never django, ninja or the SDKs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from llm.types import GenInput, GenOptions, GenResult, GenUsage, ProviderId


@dataclass(slots=True)
class StreamOutcome:
    """What a stream learns on the way: filled in by the adapter, final once the stream is exhausted.

    ``provider``/``model`` (set by MultiAI) name the provider being tried, and once the first chunk has
    arrived, the one that serves (after a fallback, not the one the request was routed to first).
    """

    usage: GenUsage | None = None
    finish_reason: str | None = None
    provider: ProviderId | None = None
    model: str | None = None


class GenStream(AsyncIterator[str]):
    """An async iterator of plain text chunks that also reports usage and finish reason.

    ``usage`` and ``finish_reason`` are final once iteration has ended. ``aclose()`` closes the
    underlying generator, which must close the HTTP request to the provider at once.
    """

    __slots__ = ("_outcome", "_source")

    def __init__(self, source: AsyncGenerator[str, None], outcome: StreamOutcome) -> None:
        self._source = source
        self._outcome = outcome

    def __aiter__(self) -> GenStream:
        return self

    def __anext__(self) -> Awaitable[str]:
        # The source's own awaitable, not a coroutine around it: one frame less per chunk.
        return self._source.__anext__()

    async def aclose(self) -> None:
        """Stop the stream and release its upstream connection."""
        await self._source.aclose()

    @property
    def usage(self) -> GenUsage | None:
        return self._outcome.usage

    @property
    def finish_reason(self) -> str | None:
        return self._outcome.finish_reason

    @property
    def provider(self) -> ProviderId | None:
        return self._outcome.provider

    @property
    def model(self) -> str | None:
        return self._outcome.model


@runtime_checkable
class ProviderPort(Protocol):
    """One provider bound to one model: ``generate`` and ``stream``, as in the front end's contract."""

    async def generate(self, input: GenInput, options: GenOptions | None = None) -> GenResult:
        """Return the whole answer."""
        ...

    def stream(self, input: GenInput, options: GenOptions | None = None) -> GenStream:
        """Return a stream of text chunks; no request is made before the first iteration."""
        ...
