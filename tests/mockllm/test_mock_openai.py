"""The real openai SDK (AsyncOpenAI chat.completions) against the mock: JSON, SSE and scenarios."""

from __future__ import annotations

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from mockllm import MockLLMServer

pytestmark = pytest.mark.anyio

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": "Tell me about penguins in Antarctica"},
]


async def collect_texts(stream: openai.AsyncStream[ChatCompletionChunk], *, into: list[str]) -> None:
    async for chunk in stream:
        into.append(chunk.choices[0].delta.content or "")


async def test_generate_returns_text_about_the_prompt_with_usage(
    openai_client: openai.AsyncOpenAI, mock: MockLLMServer
) -> None:
    reply = await openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    text = reply.choices[0].message.content or ""
    assert "penguins" in text
    assert "Tell me about" not in text
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == 8  # words of system + user
    assert reply.usage.completion_tokens == len(text.split())
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    (request,) = mock.requests_for("openai")
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.outcome == "completed"


async def test_stream_sends_chunks_then_finish_then_usage_chunk(openai_client: openai.AsyncOpenAI) -> None:
    stream = await openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(texts) > 10
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(texts)
    assert all(c.usage is None for c in chunks[:-1])


async def test_stream_without_include_usage_has_no_usage_chunk(openai_client: openai.AsyncOpenAI) -> None:
    stream = await openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]

    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


async def test_options_reach_the_recorded_body_and_max_tokens_truncates(
    openai_client: openai.AsyncOpenAI, mock: MockLLMServer
) -> None:
    reply = await openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, temperature=0.2, top_p=0.9, max_tokens=5, stop=["END"]
    )

    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 5
    body = mock.requests[0].body
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"]) == (0.2, 0.9, 5, ["END"])


async def test_stop_sequence_cuts_the_answer_before_it(openai_client: openai.AsyncOpenAI) -> None:
    reply = await openai_client.chat.completions.create(model="m", messages=MESSAGES, stop="Antarctica")

    text = reply.choices[0].message.content or ""
    assert "Antarctica" not in text
    assert text
    assert reply.choices[0].finish_reason == "stop"


async def test_rate_limit_directive_fails_n_times_with_retry_after_then_succeeds(
    openai_client: openai.AsyncOpenAI, mock: MockLLMServer
) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "hi [mock status=429 times=2 retry_after=1 tag=oa]"}
    ]
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as caught:
            await openai_client.chat.completions.create(model="m", messages=messages)
        assert caught.value.response.headers["retry-after"] == "1"
        assert caught.value.code == "rate_limit_exceeded"

    reply = await openai_client.chat.completions.create(model="m", messages=messages)

    assert "[mock" not in (reply.choices[0].message.content or "")
    assert [r.status for r in mock.requests] == [429, 429, 200]


async def test_server_error_directive_raises_internal_server_error(openai_client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        await openai_client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "[mock status=500]"}]
        )


async def test_wrong_key_is_rejected_with_401(mock: MockLLMServer) -> None:
    with MockLLMServer(api_key="right") as strict:
        async with openai.AsyncOpenAI(api_key="wrong", base_url=strict.openai_base_url, max_retries=0) as c:
            with pytest.raises(openai.AuthenticationError) as caught:
                await c.chat.completions.create(model="m", messages=MESSAGES)
    assert caught.value.code == "invalid_api_key"


async def test_closing_a_stream_early_is_recorded_as_a_disconnect(
    openai_client: openai.AsyncOpenAI, mock: MockLLMServer
) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "penguins [mock chunks=50 gap_ms=20]"}]
    stream = await openai_client.chat.completions.create(model="m", messages=messages, stream=True)
    async for _ in stream:
        if mock.requests[0].chunks_sent >= 2:
            break
    await stream.close()

    assert await mock.wait_for_disconnect_async(timeout_s=2)
    (request,) = mock.disconnects
    assert request.outcome == "cancelled"
    assert 2 <= request.chunks_sent < 50
    assert mock.streams_cancelled == 1


async def test_midstream_error_raises_api_error_after_some_chunks(openai_client: openai.AsyncOpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "penguins [mock midstream_error=2]"}]
    stream = await openai_client.chat.completions.create(model="m", messages=messages, stream=True)
    texts: list[str] = []
    with pytest.raises(openai.APIError):
        await collect_texts(stream, into=texts)
    assert len([t for t in texts if t]) == 2


async def test_reset_mid_stream_breaks_the_connection(openai_client: openai.AsyncOpenAI, mock: MockLLMServer) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "penguins [mock reset_after=3]"}]
    stream = await openai_client.chat.completions.create(model="m", messages=messages, stream=True)
    with pytest.raises((httpx2.RemoteProtocolError, openai.APIConnectionError)):
        async for _ in stream:
            pass
    assert mock.requests[0].outcome == "reset"
    assert mock.requests[0].chunks_sent == 3


async def test_hang_times_out_the_client_and_the_mock_sees_it_leave(
    openai_client: openai.AsyncOpenAI, mock: MockLLMServer
) -> None:
    with pytest.raises(openai.APITimeoutError):
        await openai_client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "[mock hang=1]"}], timeout=0.3
        )

    assert await mock.wait_for_disconnect_async(timeout_s=2)
    assert mock.requests[0].headers_sent_s is None
