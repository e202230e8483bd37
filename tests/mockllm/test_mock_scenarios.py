"""Scenario control (in-process queue and prompt directives), recording and routing, over raw HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mockllm import DirectiveError, MockLLMServer, Scenario

pytestmark = pytest.mark.anyio

OPENAI_AUTH = {"authorization": "Bearer k"}


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


def claude(content: str) -> dict[str, Any]:
    return {"model": "c", "max_tokens": 64, "messages": [{"role": "user", "content": content}]}


@pytest.fixture
async def http(mock: MockLLMServer) -> Any:
    async with httpx.AsyncClient(base_url=mock.url, timeout=5) as client:
        yield client


async def test_script_applies_in_order_to_the_named_provider_only(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    mock.script("status=500", Scenario(), "status=503", provider="openai")

    first = await http.post("/v1/chat/completions", json=chat("hi"), headers=OPENAI_AUTH)
    other = await http.post("/v1/messages", json=claude("hi"), headers={"x-api-key": "k"})
    second = await http.post("/v1/chat/completions", json=chat("hi"), headers=OPENAI_AUTH)
    third = await http.post("/v1/chat/completions", json=chat("hi"), headers=OPENAI_AUTH)
    fourth = await http.post("/v1/chat/completions", json=chat("hi"), headers=OPENAI_AUTH)

    assert [r.status_code for r in (first, other, second, third, fourth)] == [500, 200, 200, 503, 200]
    assert first.json()["error"]["type"] == "server_error"
    assert mock.scenarios.pending() == 0


async def test_enqueue_times_repeats_a_scenario(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    mock.enqueue(Scenario(status=429, retry_after_s=0.5), times=2)

    codes = [(await http.post("/v1/chat/completions", json=chat("hi"), headers=OPENAI_AUTH)) for _ in range(3)]

    assert [r.status_code for r in codes] == [429, 429, 200]
    assert codes[0].headers["retry-after"] == "0.5"


async def test_directive_times_counts_each_directive_text_separately(http: httpx.AsyncClient) -> None:
    async def status(tag: str) -> int:
        body = chat(f"hi [mock status=500 times=1 tag={tag}]")
        return (await http.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)).status_code

    assert [await status("a"), await status("b"), await status("a"), await status("b")] == [
        500,
        500,
        200,
        200,
    ]


async def test_reset_forgets_directive_counts_and_requests(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    body = chat("hi [mock status=500 times=1]")
    assert (await http.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)).status_code == 500
    mock.reset()

    assert (await http.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)).status_code == 500
    assert len(mock.requests) == 1


async def test_directive_in_system_prompt_applies_and_never_reaches_the_answer(
    http: httpx.AsyncClient,
) -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "[mock chunks=7]"},
            {"role": "user", "content": "Describe volcanoes"},
        ],
    }
    reply = (await http.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)).json()

    assert reply["usage"]["completion_tokens"] == 7
    assert "[mock" not in reply["choices"][0]["message"]["content"]


async def test_answer_is_deterministic_and_never_echoes_a_long_prompt(http: httpx.AsyncClient) -> None:
    prompt = "Please summarise the history of Byzantine architecture and its influence on Venetian churches"
    replies = [
        (await http.post("/v1/chat/completions", json=chat(prompt), headers=OPENAI_AUTH)).json() for _ in range(2)
    ]

    text = replies[0]["choices"][0]["message"]["content"]
    assert text == replies[1]["choices"][0]["message"]["content"]
    assert "Byzantine" in text
    assert prompt not in text


async def test_unknown_directive_item_is_a_400_in_the_provider_shape(http: httpx.AsyncClient) -> None:
    reply = await http.post("/v1/messages", json=claude("hi [mock stauts=500]"), headers={"x-api-key": "k"})

    assert reply.status_code == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert "stauts" in reply.json()["error"]["message"]


def test_scenario_parse_reads_the_directive_syntax() -> None:
    parsed = Scenario.parse('[mock status=429 times=2 retry_after=1.5 hang=no text="two words"]')

    assert parsed == Scenario(status=429, times=2, retry_after_s=1.5, hang=False, text="two words")
    with pytest.raises(DirectiveError):
        Scenario.parse("chunks=many")


async def test_text_scenario_streams_exact_words(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    mock.enqueue(Scenario(text="alpha beta gamma"))
    body = chat("hi", stream=True)
    async with http.stream("POST", "/v1/chat/completions", json=body, headers=OPENAI_AUTH) as reply:
        raw = (await reply.aread()).decode()

    assert reply.headers["content-type"].startswith("text/event-stream")
    assert '"content":"alpha"' in raw
    assert '"content":" gamma"' in raw
    assert raw.endswith("data: [DONE]\n\n")


async def test_delay_ms_holds_back_the_headers(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    await http.post("/v1/chat/completions", json=chat("hi [mock delay_ms=150]"), headers=OPENAI_AUTH)

    (request,) = mock.requests
    assert request.headers_sent_s is not None
    assert request.headers_sent_s - request.arrived_s >= 0.14


async def test_reset_of_a_json_reply_cuts_the_body(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v1/chat/completions", json=chat("hi [mock reset_after=0]"), headers=OPENAI_AUTH)
    assert mock.requests[0].outcome == "reset"


async def test_missing_key_and_bad_body_are_rejected_per_provider(http: httpx.AsyncClient) -> None:
    no_key = await http.post("/v1/chat/completions", json=chat("hi"))
    bad_json = await http.post("/v1/chat/completions", content=b"{nope", headers=OPENAI_AUTH)
    gemini = await http.post("/v1beta/models/g:generateContent", json={"contents": []}, params={"key": "k"})

    assert (no_key.status_code, no_key.json()["error"]["code"]) == (401, "invalid_api_key")
    assert bad_json.status_code == 400
    assert (gemini.status_code, gemini.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")


async def test_unknown_routes_are_recorded_as_404(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    reply = await http.post("/v2/whatever", json={})

    assert reply.status_code == 404
    assert mock.requests[0].provider == "unknown"
    assert (await http.get("/health")).json()["status"] == "ok"


async def test_concurrent_requests_are_all_recorded(http: httpx.AsyncClient, mock: MockLLMServer) -> None:
    async def one(i: int) -> int:
        body = chat(f"question {i}", stream=True)
        async with http.stream("POST", "/v1/chat/completions", json=body, headers=OPENAI_AUTH) as reply:
            await reply.aread()
            return reply.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(30)))

    assert set(statuses) == {200}
    assert sorted(r.seq for r in mock.requests) == list(range(1, 31))
    assert mock.recorder.wait_until_finished(timeout_s=2)
    assert mock.streams_completed == 30


async def test_body_faults_answer_200_with_what_is_not_the_providers_answer(http: httpx.AsyncClient) -> None:
    html = await http.post("/v1/chat/completions", json=chat("hi [mock body=html]"), headers=OPENAI_AUTH)
    cut = await http.post("/v1/chat/completions", json=chat("hi [mock body=truncated]"), headers=OPENAI_AUTH)
    unknown = await http.post("/v1/chat/completions", json=chat("hi [mock body=pdf]"), headers=OPENAI_AUTH)

    assert (html.status_code, html.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert cut.status_code == 200 and cut.content.startswith(b'{"id"') and not cut.content.endswith(b"}")
    assert unknown.status_code == 400


async def test_a_cut_stream_stops_after_its_chunks_without_the_final_event(http: httpx.AsyncClient) -> None:
    body = chat("hi [mock body=cut after=2]", stream=True)

    response = await http.post("/v1/chat/completions", json=body, headers=OPENAI_AUTH)

    assert response.status_code == 200
    assert response.text.count('"content":') == 3  # the role frame and two text chunks
    assert "[DONE]" not in response.text and "finish_reason\":\"stop" not in response.text


async def test_silence_sends_the_head_and_nothing_more(mock: MockLLMServer) -> None:
    client = httpx.AsyncClient(base_url=mock.url, timeout=httpx.Timeout(5, read=0.3))
    async with client, client.stream("POST", "/v1/chat/completions", json=chat("hi [mock silence=1]"),
                                     headers=OPENAI_AUTH) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            await response.aread()
    assert await mock.wait_for_disconnect_async(timeout_s=5)
