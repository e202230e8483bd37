"""The real anthropic SDK (AsyncAnthropic messages) against the mock: JSON, SSE events and scenarios."""

from __future__ import annotations

import anthropic
import httpx
import httpx2
import pytest
from anthropic.types import RawMessageStreamEvent

from mockllm import MockLLMServer

pytestmark = pytest.mark.anyio

MESSAGES: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Tell me about penguins"}]


async def collect_kinds(stream: anthropic.AsyncStream[RawMessageStreamEvent], *, into: list[str]) -> None:
    async for event in stream:
        into.append(event.type)


async def test_generate_returns_text_stop_reason_and_usage(
    anthropic_client: anthropic.AsyncAnthropic, mock: MockLLMServer
) -> None:
    reply = await anthropic_client.messages.create(
        model="claude-test", max_tokens=256, system="Be terse.", messages=MESSAGES
    )

    assert reply.content[0].type == "text"
    assert "penguins" in reply.content[0].text
    assert reply.stop_reason == "end_turn"
    assert reply.usage.input_tokens == 6
    assert reply.usage.output_tokens == len(reply.content[0].text.split())
    (request,) = mock.requests_for("anthropic")
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert request.body["system"] == "Be terse."


async def test_raw_stream_emits_the_full_event_sequence_with_usage(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    stream = await anthropic_client.messages.create(model="claude-test", max_tokens=256, messages=MESSAGES, stream=True)
    events = [event async for event in stream]

    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e for e in events if e.type == "content_block_delta"]
    start, delta = events[0], events[-2]
    assert start.type == "message_start"
    assert start.message.usage.input_tokens == 4
    assert delta.type == "message_delta"
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == len(deltas)


async def test_stream_helper_merges_usage_and_honours_max_tokens(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    async with anthropic_client.messages.stream(model="c", max_tokens=4, messages=MESSAGES) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()

    assert len(texts) == 4
    assert final.stop_reason == "max_tokens"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (4, 4)


async def test_stop_sequences_and_extra_body_sampling_reach_the_body(
    anthropic_client: anthropic.AsyncAnthropic, mock: MockLLMServer
) -> None:
    reply = await anthropic_client.messages.create(
        model="c",
        max_tokens=64,
        messages=MESSAGES,
        stop_sequences=["mock"],
        extra_body={"temperature": 0.2, "top_p": 0.9},
    )

    assert reply.stop_reason == "stop_sequence"
    assert reply.stop_sequence == "mock"
    body = mock.requests[0].body
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop_sequences"]) == (
        0.2,
        0.9,
        64,
        ["mock"],
    )


async def test_x_api_key_header_is_accepted_too(mock: MockLLMServer) -> None:
    body = {"model": "c", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=mock.url, timeout=5) as client:
        ok = await client.post("/v1/messages", json=body, headers={"x-api-key": "k"})
        missing = await client.post("/v1/messages", json=body)

    assert ok.status_code == 200
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"


async def test_rate_limit_carries_retry_after_and_the_error_shape(
    anthropic_client: anthropic.AsyncAnthropic, mock: MockLLMServer
) -> None:
    mock.enqueue("status=429 retry_after=2", provider="anthropic")

    with pytest.raises(anthropic.RateLimitError) as caught:
        await anthropic_client.messages.create(model="c", max_tokens=8, messages=MESSAGES)

    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "mockllm scenario: HTTP 429"},
        "request_id": "req_mockllm",
    }


async def test_midstream_error_event_raises_during_iteration(
    anthropic_client: anthropic.AsyncAnthropic,
) -> None:
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi [mock midstream_error=1]"}]
    stream = await anthropic_client.messages.create(model="c", max_tokens=64, messages=messages, stream=True)
    kinds: list[str] = []
    with pytest.raises(anthropic.APIStatusError):
        await collect_kinds(stream, into=kinds)
    assert kinds.count("content_block_delta") == 1


async def test_closing_a_stream_early_is_recorded_as_a_disconnect(
    anthropic_client: anthropic.AsyncAnthropic, mock: MockLLMServer
) -> None:
    mock.enqueue("chunks=50 gap_ms=20")
    stream = await anthropic_client.messages.create(model="c", max_tokens=64, messages=MESSAGES, stream=True)
    async for event in stream:
        if event.type == "content_block_delta":
            break
    await stream.close()

    assert await mock.wait_for_disconnect_async(timeout_s=2)
    assert mock.requests[0].outcome == "cancelled"


async def test_stall_mid_stream_trips_the_client_read_timeout(
    anthropic_client: anthropic.AsyncAnthropic, mock: MockLLMServer
) -> None:
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi [mock stall_after=2]"}]
    stream = await anthropic_client.messages.create(
        model="c", max_tokens=64, messages=messages, stream=True, timeout=httpx2.Timeout(5, read=0.3)
    )
    with pytest.raises((anthropic.APITimeoutError, httpx2.ReadTimeout)):
        async for _ in stream:
            pass

    assert mock.requests[0].chunks_sent == 2
    assert await mock.wait_for_disconnect_async(timeout_s=2)
