"""Test wiring for llm/: a registry and a MultiAI pointed at the mock upstream (mockllm) by base URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from llm.fallback import Candidate
from llm.multi import MultiAIWrapper
from llm.registry import ProviderConfig, ProviderRegistry
from llm.retry import RetryPolicy
from llm.types import PROVIDER_IDS, ProviderId
from mockllm import MockLLMServer

MODELS: dict[ProviderId, tuple[str, ...]] = {
    "openai": ("gpt-4o-mini", "gpt-4o"),
    "anthropic": ("claude-sonnet-4-6", "claude-haiku-4-5"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro"),
}
# Fast retries keep the tests short; the policy's shape is what is under test.
FAST_RETRY = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, max_retry_after_s=0.2)


@dataclass
class FallbackLog:
    """Records ``on_fallback`` calls as (origin, from, to provider, to model)."""

    moves: list[tuple[ProviderId, ProviderId, ProviderId, str]] = field(default_factory=list)

    def __call__(self, *, origin: ProviderId, from_provider: ProviderId, to: Candidate) -> None:
        self.moves.append((origin, from_provider, to.provider, to.model))


@dataclass
class FailureLog:
    """Records ``on_upstream_error`` calls."""

    calls: list[tuple[ProviderId, str]] = field(default_factory=list)

    def __call__(self, provider: ProviderId, code: str) -> None:
        self.calls.append((provider, code))


def base_urls(mock: MockLLMServer) -> dict[ProviderId, str]:
    return {"openai": mock.openai_base_url, "anthropic": mock.anthropic_base_url, "gemini": mock.gemini_base_url}


def make_registry(mock: MockLLMServer, *, timeout_ms: int = 5_000, keys: bool = True,
                  without: tuple[ProviderId, ...] = ()) -> ProviderRegistry:
    """A registry on ``mock``; ``keys=False`` leaves every provider unconfigured, ``without`` some."""
    urls = base_urls(mock)
    configs = {
        pid: ProviderConfig(id=pid, api_key=f"key-{pid}" if keys and pid not in without else None,
                            base_url=urls[pid])
        for pid in PROVIDER_IDS
    }
    return ProviderRegistry(configs, timeout_ms=timeout_ms)


def make_multi(
    registry: ProviderRegistry,
    *,
    failures: FailureLog | None = None,
    request_timeout_ms: int = 2_000,
    stream_timeout_ms: int = 5_000,
    retry: RetryPolicy = FAST_RETRY,
    fallback: tuple[ProviderId, ...] = (),
    fallbacks: FallbackLog | None = None,
) -> MultiAIWrapper:
    return MultiAIWrapper(
        registry=registry,
        models=MODELS,
        default_provider="gemini",
        default_model="gemini-2.5-flash",
        request_timeout_ms=request_timeout_ms,
        stream_timeout_ms=stream_timeout_ms,
        on_upstream_error=failures,
        retry=retry,
        fallback=fallback,
        on_fallback=fallbacks,
    )


async def drain(stream: AsyncIterator[str], *, into: list[str]) -> None:
    """Append every chunk of ``stream`` to ``into``, which keeps them when the stream fails."""
    async for chunk in stream:
        into.append(chunk)
