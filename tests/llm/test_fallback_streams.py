"""Fallback of a stream on the default route: before its first chunk it moves on as a JSON call does; after
it, never. Counted at the mock upstream per provider."""

from __future__ import annotations

import pytest

from llm.errors import DeadlineExceeded, UpstreamConnectionError, UpstreamError
from llm.multi import MultiAIWrapper
from llm.registry import ProviderRegistry
from mockllm import MockLLMServer, Scenario
from tests.llm.fallback_support import ANSWER, DOWN, OPENAI, PROMPT, calls, collect, default_route, stream
from tests.llm.wiring import FailureLog, FallbackLog, drain, make_multi

pytestmark = pytest.mark.anyio


@pytest.fixture
def multi(registry: ProviderRegistry, failures: FailureLog, fallbacks: FallbackLog) -> MultiAIWrapper:
    return default_route(registry, failures=failures, fallbacks=fallbacks)


# --- streams, before their first chunk ----------------------------------------------------------------

async def test_a_stream_whose_default_fails_before_its_first_chunk_is_served_by_the_next(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    mock.enqueue(DOWN, provider="gemini", times=5)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")
    chunks = multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)

    assert await collect(chunks) == ANSWER
    assert (chunks.provider, chunks.model) == OPENAI
    assert chunks.usage is not None and chunks.finish_reason == "stop"
    assert calls(mock) == {"gemini": 2, "openai": 1, "anthropic": 0}
    assert fallbacks.moves == [("gemini", "gemini", *OPENAI)]


async def test_a_stream_error_event_before_the_first_chunk_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer
) -> None:
    mock.enqueue(Scenario(midstream_error=0), provider="gemini", times=5)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await collect(stream(multi)) == ANSWER
    assert calls(mock)["openai"] == 1


async def test_a_silent_stream_falls_back_within_the_first_chunk_deadline(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    multi = make_multi(registry, request_timeout_ms=3_000, fallback=("openai",))
    mock.enqueue(Scenario(hang=True), provider="gemini")
    mock.enqueue(Scenario(text=ANSWER), provider="openai")
    chunks = multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)

    assert await collect(chunks) == ANSWER
    assert chunks.provider == "openai"
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


@pytest.mark.parametrize("broken", [Scenario(body="garbage"), Scenario(body="cut"), Scenario(body="truncated")],
                         ids=["garbage", "cut", "truncated"])
async def test_a_stream_broken_before_its_first_chunk_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer, broken: Scenario
) -> None:
    mock.enqueue(broken, provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")
    chunks = multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)

    assert await collect(chunks) == ANSWER
    assert chunks.provider == "openai"
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


async def test_a_stream_whose_head_came_but_no_chunk_falls_back_halfway(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    multi = make_multi(registry, request_timeout_ms=3_000, fallback=("openai",))
    mock.enqueue(Scenario(silence=True), provider="gemini")
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await collect(stream(multi)) == ANSWER
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


async def test_a_stream_with_a_long_retry_after_moves_on_at_once(
    multi: MultiAIWrapper, mock: MockLLMServer
) -> None:
    mock.enqueue(Scenario(status=429, retry_after_s=30), provider="gemini", times=3)
    mock.enqueue(Scenario(text=ANSWER), provider="openai")

    assert await collect(stream(multi)) == ANSWER
    assert calls(mock) == {"gemini": 1, "openai": 1, "anthropic": 0}


async def test_a_stream_off_the_default_route_never_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer
) -> None:
    mock.enqueue(DOWN, provider="gemini", times=5)

    with pytest.raises(UpstreamError):
        await collect(multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash"))
    assert calls(mock) == {"gemini": 3, "openai": 0, "anthropic": 0}


# --- streams, after their first chunk -----------------------------------------------------------------

async def test_a_stream_that_fails_after_its_first_chunk_never_falls_back(
    multi: MultiAIWrapper, mock: MockLLMServer, fallbacks: FallbackLog
) -> None:
    mock.enqueue(Scenario(reset_after=2, chunks=10), provider="gemini", times=3)
    received: list[str] = []
    chunks = multi.stream(PROMPT, provider="gemini", model="gemini-2.5-flash", fallback=True)

    with pytest.raises(UpstreamConnectionError):
        await drain(chunks, into=received)

    assert len(received) == 2 and chunks.provider == "gemini"
    assert calls(mock) == {"gemini": 1, "openai": 0, "anthropic": 0}
    assert fallbacks.moves == []


async def test_a_stream_cut_after_its_first_chunk_is_an_error_without_fallback(
    multi: MultiAIWrapper, mock: MockLLMServer
) -> None:
    mock.enqueue(Scenario(body="cut", after=2, chunks=10), provider="gemini", times=3)
    received: list[str] = []

    with pytest.raises(UpstreamError):
        await drain(stream(multi), into=received)
    assert len(received) == 2
    assert calls(mock) == {"gemini": 1, "openai": 0, "anthropic": 0}


async def test_a_stream_that_stalls_after_its_first_chunk_times_out_without_fallback(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    # 1 s for the first chunk (half the deadline: openai is next), then 2 s of silence ends the stream.
    multi = make_multi(registry, request_timeout_ms=2_000, fallback=("openai",))
    mock.enqueue(Scenario(stall_after=1, chunks=5), provider="gemini")
    received: list[str] = []

    with pytest.raises(DeadlineExceeded):
        await drain(stream(multi), into=received)
    assert len(received) == 1
    assert calls(mock) == {"gemini": 1, "openai": 0, "anthropic": 0}
