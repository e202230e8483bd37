"""Deadlines and cancellation close the upstream request at once: the mock upstream sees its client go.

Cost protection (docs/api.md § The event stream): no tokens are paid for nobody. "Promptly" is asserted with a generous
bound; the tests themselves end as soon as the mock has seen the disconnect.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from llm.errors import DeadlineExceeded, ProviderNotConfigured
from llm.multi import MultiAIWrapper
from llm.ports import GenStream
from llm.registry import ProviderRegistry
from llm.types import GenInput, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import FailureLog, drain, make_multi, make_registry

pytestmark = pytest.mark.anyio

PROMPT = GenInput(user="Tell me about rivers")
SLOW = Scenario(chunks=200, gap_ms=20)  # 4 s of answer: far longer than any test waits
PROMPTLY_S = 1.0


async def assert_upstream_saw_the_client_go(mock: MockLLMServer, *, since: float) -> None:
    assert await mock.wait_for_disconnect_async(timeout_s=5)
    (request,) = mock.disconnects
    assert request.disconnected_s is not None
    assert request.disconnected_s - since < PROMPTLY_S


def open_stream(registry: ProviderRegistry, multi: MultiAIWrapper, pid: ProviderId, model: str, via: str) -> GenStream:
    if via == "port":
        return registry.bind(pid, model).stream(PROMPT)
    return multi.stream(PROMPT, provider=pid, model=model)


@pytest.mark.parametrize("via", ["port", "multi"])
async def test_closing_a_stream_closes_the_upstream_request(
    registry: ProviderRegistry, multi: MultiAIWrapper, mock: MockLLMServer, pid: ProviderId, model: str, via: str
) -> None:
    mock.enqueue(SLOW)
    stream = open_stream(registry, multi, pid, model, via)
    assert [await anext(stream), await anext(stream)]

    closed = time.monotonic()
    await stream.aclose()

    await assert_upstream_saw_the_client_go(mock, since=closed)


@pytest.mark.parametrize("via", ["port", "multi"])
async def test_cancelling_the_consuming_task_closes_the_upstream_request(
    registry: ProviderRegistry, multi: MultiAIWrapper, mock: MockLLMServer, pid: ProviderId, model: str, via: str
) -> None:
    mock.enqueue(SLOW)
    stream = open_stream(registry, multi, pid, model, via)
    received: list[str] = []

    async def consume() -> None:
        async for chunk in stream:
            received.append(chunk)

    task = asyncio.create_task(consume())
    while len(received) < 2:
        await asyncio.sleep(0.01)
        assert not task.done()
    cancelled = time.monotonic()
    task.cancel()

    await assert_upstream_saw_the_client_go(mock, since=cancelled)
    await asyncio.wait([task], timeout=5)
    assert task.cancelled()


async def test_generate_past_the_deadline_is_aborted(
    registry: ProviderRegistry, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, failures=failures, request_timeout_ms=300)
    mock.enqueue(Scenario(hang=True))
    started = time.monotonic()

    with pytest.raises(DeadlineExceeded):
        await multi.generate(PROMPT, provider=pid, model=model)

    await assert_upstream_saw_the_client_go(mock, since=started + 0.3)
    assert failures.calls == [(pid, "timeout")]


async def test_the_generate_deadline_covers_the_retries(
    registry: ProviderRegistry, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, failures=failures, request_timeout_ms=1_000)
    mock.script(Scenario(status=503, delay_ms=100), Scenario(hang=True))

    with pytest.raises(DeadlineExceeded):
        await multi.generate(PROMPT, provider=pid, model=model)

    assert len(mock.requests_for(pid)) == 2
    assert failures.calls == [(pid, "503"), (pid, "timeout")]
    assert await mock.wait_for_disconnect_async(timeout_s=5)


async def test_a_stream_whose_first_chunk_is_late_is_aborted(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, request_timeout_ms=300)
    mock.enqueue(Scenario(hang=True))
    started = time.monotonic()

    with pytest.raises(DeadlineExceeded):
        await anext(multi.stream(PROMPT, provider=pid, model=model))

    await assert_upstream_saw_the_client_go(mock, since=started + 0.3)


async def test_a_stream_idle_longer_than_the_request_timeout_is_aborted(
    registry: ProviderRegistry, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, failures=failures, request_timeout_ms=300)
    mock.enqueue(Scenario(stall_after=2, chunks=10))
    chunks: list[str] = []

    with pytest.raises(DeadlineExceeded):
        await drain(multi.stream(PROMPT, provider=pid, model=model), into=chunks)

    assert len(chunks) == 2
    await assert_upstream_saw_the_client_go(mock, since=time.monotonic())
    assert failures.calls == [(pid, "timeout")]


async def test_a_stream_longer_than_the_stream_timeout_is_aborted(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, request_timeout_ms=1_000, stream_timeout_ms=600)
    mock.enqueue(SLOW)  # every gap is short, the whole is long
    started = time.monotonic()
    chunks: list[str] = []

    with pytest.raises(DeadlineExceeded):
        await drain(multi.stream(PROMPT, provider=pid, model=model), into=chunks)

    assert 0 < len(chunks) < 200
    await assert_upstream_saw_the_client_go(mock, since=started + 0.6)


async def test_an_unconfigured_provider_fails_before_any_request(mock: MockLLMServer, pid: ProviderId) -> None:
    registry = make_registry(mock, keys=False)
    multi = make_multi(registry)

    with pytest.raises(ProviderNotConfigured):
        await multi.generate(PROMPT, provider=pid, model="m")
    with pytest.raises(ProviderNotConfigured):
        multi.stream(PROMPT, provider=pid, model="m")
    assert not multi.configured(pid)
    assert mock.requests == []


async def test_closing_a_stream_whose_reader_fell_behind_closes_the_upstream_request(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    mock.enqueue(SLOW)
    stream = registry.bind(pid, model).stream(PROMPT)
    assert await anext(stream)
    deadline = time.monotonic() + 5
    while mock.requests[0].chunks_sent < 6 and time.monotonic() < deadline:  # the provider runs ahead of a
        await asyncio.sleep(0.005)  # reader that paused (a slow client): genai's pump has answers queued

    closed = time.monotonic()
    await stream.aclose()

    await assert_upstream_saw_the_client_go(mock, since=closed)
