"""What the fallback tests share: the prompt, the answer, a provider down, and calls counted per provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

from llm.multi import MultiAIWrapper
from llm.registry import ProviderRegistry
from llm.types import GenInput
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import MODELS, FailureLog, FallbackLog, make_multi

PROMPT = GenInput(user="Tell me about rivers")
ANSWER = "Rivers carve valleys"
OPENAI = ("openai", MODELS["openai"][0])
ANTHROPIC = ("anthropic", MODELS["anthropic"][0])
DOWN = Scenario(status=503)


def default_route(registry: ProviderRegistry, *, failures: FailureLog, fallbacks: FallbackLog) -> MultiAIWrapper:
    """Default gemini, falling back to openai then anthropic."""
    return make_multi(registry, failures=failures, fallback=("openai", "anthropic"), fallbacks=fallbacks)


def calls(mock: MockLLMServer) -> dict[str, int]:
    """Upstream calls received, per provider."""
    return {pid: len(mock.requests_for(pid)) for pid in ("gemini", "openai", "anthropic")}


async def collect(stream: AsyncIterator[str]) -> str:
    return "".join([chunk async for chunk in stream])


def stream(multi: MultiAIWrapper) -> AsyncIterator[str]:
    return multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)
