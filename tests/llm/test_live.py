"""One smoke test per provider against its real API; skipped unless the provider's key is in the
environment (the only thing tests read from it). Run with ``pytest -m live tests/llm``."""

from __future__ import annotations

import os

import pytest

from llm.registry import ProviderConfig, ProviderRegistry
from llm.types import GenInput, GenOptions, ProviderId

pytestmark = [pytest.mark.anyio, pytest.mark.live]

CHEAP_MODELS: dict[ProviderId, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "gemini": "gemini-2.5-flash",
}
PROMPT = GenInput(system="Answer in one short sentence.", user="Say hello to a gateway test.")


@pytest.mark.parametrize("pid", list(CHEAP_MODELS))
async def test_live_generate_and_stream_return_text_and_usage(pid: ProviderId) -> None:
    key = os.environ.get(f"{pid.upper()}_API_KEY")
    if not key:
        pytest.skip(f"{pid.upper()}_API_KEY is not set")
    registry = ProviderRegistry({pid: ProviderConfig(id=pid, api_key=key)}, timeout_ms=30_000)
    provider = registry.bind(pid, CHEAP_MODELS[pid])
    try:
        result = await provider.generate(PROMPT, GenOptions(max_tokens=64))
        stream = provider.stream(PROMPT, GenOptions(max_tokens=64))
        chunks = [chunk async for chunk in stream]
    finally:
        await registry.aclose()

    assert result.text.strip()
    assert result.usage is not None and result.usage.completion > 0
    assert result.finish_reason in {"stop", "length"}
    assert "".join(chunks).strip()
    assert stream.usage is not None and stream.usage.total > 0
    assert stream.finish_reason in {"stop", "length"}
