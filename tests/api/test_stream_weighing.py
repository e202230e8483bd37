"""The relay weighs the text a stream produced only when that weight is asked for (a stream that ended without
reported usage, for its estimate), not chunk by chunk: budgets off, a stream does no budget work per chunk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from grompt_gateway.v1 import sse
from grompt_gateway.v1.sse import Relay
from guards.token_estimate import text_weight
from llm.ports import GenStream, StreamOutcome

pytestmark = pytest.mark.anyio


async def _relay_all(texts: list[str]) -> Relay:
    async def chunks() -> AsyncIterator[str]:
        for text in texts:
            yield text

    relay = Relay(GenStream(chunks(), StreamOutcome()), heartbeat_s=0, started=0.0)
    first = await relay.first(commit_window_s=5)
    async for batch in relay.batches(first):
        if batch[-1] is sse._END:
            break
    await relay.aclose()
    return relay


@pytest.fixture
def weighings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(text: str) -> int:
        calls.append(text)
        return text_weight(text)

    monkeypatch.setattr(sse, "text_weight", counting)
    return calls


async def test_a_stream_weighs_nothing_until_asked(weighings: list[Any]) -> None:
    texts = [f"chunk {n} ünïcode 42 " for n in range(20)]
    relay = await _relay_all(texts)

    assert weighings == []  # nothing per chunk
    assert relay.report.produced_weight == sum(text_weight(text) for text in texts)


async def test_a_long_stream_is_weighed_in_batches_and_keeps_few_chunks(weighings: list[Any]) -> None:
    texts = [f"{n} digits and words " for n in range(500)]
    relay = await _relay_all(texts)

    assert len(weighings) <= len(texts) // 16
    assert len(relay.report.unweighed) < 64  # what a long stream keeps alive is bounded
    assert relay.report.produced_weight == sum(text_weight(text) for text in texts)
