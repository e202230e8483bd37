"""MultiAI's short retries, counted on the mock upstream: 429/5xx/connection failures are retried at most
twice, Retry-After is honoured within a cap and the deadline, a stream is never retried once it yielded."""

from __future__ import annotations

import time

import pytest

from llm.errors import UpstreamBadRequest, UpstreamConnectionError, UpstreamError
from llm.multi import MultiAIWrapper
from llm.registry import ProviderRegistry
from llm.retry import RetryPolicy
from llm.types import GenInput, GenUsage, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import FailureLog, drain, make_multi

pytestmark = pytest.mark.anyio

PROMPT = GenInput(user="Tell me about rivers")
ANSWER = "Rivers carve valleys"


async def test_generate_retries_a_rate_limit_then_succeeds(
    multi: MultiAIWrapper, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    mock.script(Scenario(status=429, retry_after_s=0.05), Scenario(status=429), Scenario(text=ANSWER))

    result = await multi.generate(PROMPT, provider=pid, model=model)

    assert result.text == ANSWER
    assert len(mock.requests_for(pid)) == 3
    assert failures.calls == [(pid, "429"), (pid, "429")]


@pytest.mark.parametrize("failure", [Scenario(status=500), Scenario(status=529), Scenario(reset_after=1)])
async def test_generate_retries_server_and_connection_failures(
    multi: MultiAIWrapper, mock: MockLLMServer, pid: ProviderId, model: str, failure: Scenario
) -> None:
    mock.script(failure, Scenario(text=ANSWER))

    result = await multi.generate(PROMPT, provider=pid, model=model)

    assert result.text == ANSWER
    assert len(mock.requests_for(pid)) == 2


async def test_generate_gives_up_after_two_retries(
    multi: MultiAIWrapper, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(status=503), times=5)

    with pytest.raises(UpstreamError) as caught:
        await multi.generate(PROMPT, provider=pid, model=model)

    assert caught.value.upstream_status == 503
    assert len(mock.requests_for(pid)) == 3
    assert failures.calls == [(pid, "503")] * 3


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_generate_does_not_retry_what_a_retry_cannot_fix(
    multi: MultiAIWrapper, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str, status: int
) -> None:
    mock.enqueue(Scenario(status=status), times=3)

    with pytest.raises((UpstreamError, UpstreamBadRequest)):
        await multi.generate(PROMPT, provider=pid, model=model)

    assert len(mock.requests_for(pid)) == 1
    assert failures.calls == [(pid, str(status))]


async def test_retry_after_is_capped(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, retry=RetryPolicy(max_retry_after_s=0.05))
    mock.script(Scenario(status=429, retry_after_s=30), Scenario(text=ANSWER))
    started = time.monotonic()

    result = await multi.generate(PROMPT, provider=pid, model=model)

    assert result.text == ANSWER
    assert time.monotonic() - started < 10  # nowhere near the 30 s asked for


async def test_a_retry_after_past_the_deadline_fails_at_once(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    multi = make_multi(registry, request_timeout_ms=1_000, retry=RetryPolicy(max_retry_after_s=60))
    mock.enqueue(Scenario(status=429, retry_after_s=30), times=3)

    with pytest.raises(UpstreamError) as caught:
        await multi.generate(PROMPT, provider=pid, model=model)

    assert (caught.value.upstream_status, caught.value.retry_after_s) == (429, 30.0)
    assert len(mock.requests_for(pid)) == 1


async def test_stream_retries_until_the_first_chunk(
    multi: MultiAIWrapper, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    mock.script(Scenario(status=429), Scenario(midstream_error=0), Scenario(text=ANSWER))

    stream = multi.stream(PROMPT, provider=pid, model=model)
    chunks = [chunk async for chunk in stream]

    assert "".join(chunks) == ANSWER
    assert stream.usage == GenUsage(prompt=4, completion=3, total=7)
    assert stream.finish_reason == "stop"
    assert len(mock.requests_for(pid)) == 3
    assert failures.calls[0] == (pid, "429")
    assert len(failures.calls) == 2


async def test_stream_is_never_retried_after_its_first_chunk(
    multi: MultiAIWrapper, mock: MockLLMServer, failures: FailureLog, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(reset_after=2, chunks=10), times=3)
    chunks: list[str] = []

    with pytest.raises(UpstreamConnectionError):
        await drain(multi.stream(PROMPT, provider=pid, model=model), into=chunks)

    assert len(chunks) == 2
    assert len(mock.requests_for(pid)) == 1
    assert failures.calls == [(pid, "connect")]


async def test_stream_gives_up_after_two_retries(
    multi: MultiAIWrapper, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(status=500), times=5)

    with pytest.raises(UpstreamError):
        await anext(multi.stream(PROMPT, provider=pid, model=model))

    assert len(mock.requests_for(pid)) == 3
