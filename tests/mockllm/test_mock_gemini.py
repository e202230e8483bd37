"""The real google-genai SDK (client.aio chats and models) against the mock: JSON, SSE and scenarios."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from mockllm import MockLLMServer

pytestmark = pytest.mark.anyio

CONFIG = types.GenerateContentConfig(
    system_instruction="Be terse.", temperature=0.2, top_p=0.9, max_output_tokens=64, stop_sequences=["END"]
)


async def collect_texts(stream: AsyncIterator[types.GenerateContentResponse], *, into: list[str]) -> None:
    async for chunk in stream:
        into.append(chunk.text or "")


async def test_chat_send_message_returns_text_finish_and_usage(
    gemini_client: genai.Client, mock: MockLLMServer
) -> None:
    chat = gemini_client.aio.chats.create(model="gemini-2.5-flash", config=CONFIG)
    reply = await chat.send_message("Tell me about penguins")

    assert "penguins" in (reply.text or "")
    assert reply.candidates
    assert reply.candidates[0].finish_reason == types.FinishReason.STOP
    usage = reply.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count) == (6, len((reply.text or "").split()))
    assert usage.total_token_count == 6 + len((reply.text or "").split())
    (request,) = mock.requests_for("gemini")
    assert request.path == "/v1/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == "g-test"
    assert request.body["generationConfig"] == {
        "temperature": 0.2,
        "topP": 0.9,
        "maxOutputTokens": 64,
        "stopSequences": ["END"],
    }
    assert request.body["systemInstruction"]["parts"] == [{"text": "Be terse."}]


async def test_stream_puts_finish_reason_and_usage_on_the_last_chunk(
    gemini_client: genai.Client, mock: MockLLMServer
) -> None:
    chat = gemini_client.aio.chats.create(model="gemini-2.5-flash")
    chunks = [chunk async for chunk in await chat.send_message_stream("whales [mock chunks=5]")]

    assert len(chunks) == 5
    assert all(c.text for c in chunks)
    assert [c.candidates[0].finish_reason if c.candidates else None for c in chunks][:-1] == [None] * 4
    last = chunks[-1]
    assert last.candidates
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.candidates_token_count == 5
    assert mock.requests[0].query == "alt=sse"
    assert mock.requests[0].stream


async def test_max_output_tokens_truncates_with_max_tokens_reason(gemini_client: genai.Client) -> None:
    reply = await gemini_client.aio.models.generate_content(
        model="gemini-2.5-flash",
        contents="Tell me about penguins",
        config=types.GenerateContentConfig(max_output_tokens=3),
    )

    assert reply.candidates
    assert reply.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert len((reply.text or "").split()) == 3


async def test_v1beta_path_is_served_too(mock: MockLLMServer) -> None:
    client = genai.Client(
        api_key="k", http_options=types.HttpOptions(base_url=mock.gemini_base_url, api_version="v1beta")
    )
    reply = await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hello")

    assert reply.text
    assert mock.requests[0].path == "/v1beta/models/gemini-2.5-flash:generateContent"


async def test_rate_limit_is_a_client_error_with_google_status(gemini_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await gemini_client.aio.models.generate_content(model="m", contents="hi [mock status=429 retry_after=1]")

    assert (caught.value.code, caught.value.status) == (429, "RESOURCE_EXHAUSTED")


async def test_stream_rate_limit_raises_at_first_iteration(gemini_client: genai.Client) -> None:
    stream = await gemini_client.aio.models.generate_content_stream(model="m", contents="hi [mock status=503]")
    with pytest.raises(errors.ServerError) as caught:
        async for _ in stream:
            pass
    assert caught.value.status == "UNAVAILABLE"


async def test_midstream_error_raises_server_error(gemini_client: genai.Client) -> None:
    stream = await gemini_client.aio.models.generate_content_stream(model="m", contents="hi [mock midstream_error=2]")
    texts: list[str] = []
    with pytest.raises(errors.ServerError):
        await collect_texts(stream, into=texts)
    assert len(texts) == 2


async def test_hang_trips_the_millisecond_timeout(mock: MockLLMServer) -> None:
    # httpx2, as the gateway gives genai (llm/registry.py); with aiohttp installed genai would pick aiohttp.
    async with httpx2.AsyncClient() as http:
        options = types.HttpOptions(base_url=mock.url, timeout=300, httpx_async_client=http)
        client = genai.Client(api_key="k", http_options=options)
        with pytest.raises(httpx2.TimeoutException):
            await client.aio.models.generate_content(model="m", contents="[mock hang=1]")

    assert await mock.wait_for_disconnect_async(timeout_s=2)


async def test_cancelling_the_consuming_task_is_recorded_as_a_disconnect(
    gemini_client: genai.Client, mock: MockLLMServer
) -> None:
    async def consume() -> None:
        stream = await gemini_client.aio.models.generate_content_stream(
            model="m", contents="hi [mock chunks=50 gap_ms=20]"
        )
        async for _ in stream:
            pass

    task = asyncio.ensure_future(consume())
    assert await mock.wait_for_disconnect_async(timeout_s=0.2) is False
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await mock.wait_for_disconnect_async(timeout_s=2)
    assert 0 < mock.requests[0].chunks_sent < 50


async def test_missing_key_is_401_in_google_error_shape(mock: MockLLMServer) -> None:
    with MockLLMServer(api_key="right") as strict:
        client = genai.Client(api_key="wrong", http_options=types.HttpOptions(base_url=strict.url))
        with pytest.raises(errors.ClientError) as caught:
            await client.aio.models.generate_content(model="m", contents="hi")

    assert (caught.value.code, caught.value.status) == (401, "UNAUTHENTICATED")
