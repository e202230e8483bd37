"""Each adapter, through its real SDK, against the mock upstream: text, chunks, usage, finish reason, and
the native request fields every option becomes (asserted on the body the mock received)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from llm.ports import ProviderPort
from llm.registry import SDK_TELEMETRY_HEADERS, ProviderRegistry
from llm.types import GenInput, GenOptions, GenUsage, ProviderId
from mockllm import MockLLMServer, Scenario
from tests.llm.wiring import MODELS

pytestmark = pytest.mark.anyio

ANSWER = "Rivers carve valleys over time"  # the mock streams it as 5 word chunks
PROMPT = GenInput(system="Be terse.", user="Tell me about rivers")  # 2 + 4 words: 6 prompt tokens
ALL_OPTIONS = GenOptions(temperature=0.25, top_p=0.75, max_tokens=42, stop_sequences=("END", "STOP"))


def port(registry: ProviderRegistry, pid: ProviderId, model: str) -> ProviderPort:
    return registry.bind(pid, model)


async def test_generate_returns_text_usage_and_finish_reason(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(text=ANSWER))

    result = await port(registry, pid, model).generate(PROMPT)

    assert result.text == ANSWER
    assert (result.provider, result.model) == (pid, model)
    assert result.usage == GenUsage(prompt=6, completion=5, total=11)
    assert result.finish_reason == "stop"
    assert result.to_json()["finishReason"] == "stop"


async def test_stream_yields_chunks_in_order_then_usage_and_finish_reason(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(text=ANSWER))

    stream = port(registry, pid, model).stream(PROMPT)
    chunks = [chunk async for chunk in stream]

    assert chunks == ["Rivers", " carve", " valleys", " over", " time"]
    assert stream.usage == GenUsage(prompt=6, completion=5, total=11)
    assert stream.finish_reason == "stop"
    (request,) = mock.requests_for(pid)
    assert request.stream and request.outcome == "completed"


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
async def test_max_tokens_cut_reports_length(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str, stream: bool
) -> None:
    mock.enqueue(Scenario(text=ANSWER))
    provider = port(registry, pid, model)
    options = GenOptions(max_tokens=2)

    if stream:
        gen = provider.stream(PROMPT, options)
        text, usage, finish = "".join([c async for c in gen]), gen.usage, gen.finish_reason
    else:
        result = await provider.generate(PROMPT, options)
        text, usage, finish = result.text, result.usage, result.finish_reason

    assert text == "Rivers carve"
    assert usage == GenUsage(prompt=6, completion=2, total=8)
    assert finish == "length"


async def test_stream_sends_nothing_before_the_first_iteration(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    stream = port(registry, pid, model).stream(PROMPT)
    await stream.aclose()

    assert mock.requests == []


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
async def test_openai_receives_every_option_and_the_system_prompt_natively(
    registry: ProviderRegistry, mock: MockLLMServer, stream: bool
) -> None:
    body = await sent_body(registry, mock, "openai", stream=stream)

    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Tell me about rivers"},
    ]
    assert body["temperature"] == 0.25
    assert body["top_p"] == 0.75
    assert body["max_completion_tokens"] == 42
    assert "max_tokens" not in body
    assert body["stop"] == ["END", "STOP"]
    assert body.get("stream_options") == ({"include_usage": True} if stream else None)


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
async def test_anthropic_receives_max_tokens_stop_and_system_but_no_sampling(
    registry: ProviderRegistry, mock: MockLLMServer, stream: bool
) -> None:
    body = await sent_body(registry, mock, "anthropic", stream=stream)

    assert body["model"] == "claude-sonnet-4-6"
    assert body["system"] == "Be terse."
    assert body["messages"] == [{"role": "user", "content": "Tell me about rivers"}]
    assert body["max_tokens"] == 42
    assert body["stop_sequences"] == ["END", "STOP"]
    # API version 2026-10-21 answers 400 to any sampling parameter (llm/README.md).
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    (request,) = mock.requests_for("anthropic")
    assert request.headers["anthropic-version"] == "2026-10-21"


async def test_anthropic_sends_a_default_max_tokens_when_the_client_gives_none(
    registry: ProviderRegistry, mock: MockLLMServer
) -> None:
    await port(registry, "anthropic", "claude-sonnet-4-6").generate(GenInput(user="hi"))

    (request,) = mock.requests_for("anthropic")
    assert request.body["max_tokens"] == 4096
    assert "system" not in request.body


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
async def test_gemini_receives_every_option_and_the_system_prompt_natively(
    registry: ProviderRegistry, mock: MockLLMServer, stream: bool
) -> None:
    body = await sent_body(registry, mock, "gemini", stream=stream)

    assert body["contents"] == [{"parts": [{"text": "Tell me about rivers"}], "role": "user"}]
    assert body["systemInstruction"]["parts"] == [{"text": "Be terse."}]
    assert body["generationConfig"] == {
        "temperature": 0.25,
        "topP": 0.75,
        "maxOutputTokens": 42,
        "stopSequences": ["END", "STOP"],
    }
    (request,) = mock.requests_for("gemini")
    method = "streamGenerateContent" if stream else "generateContent"
    assert request.path == f"/v1/models/gemini-2.5-flash:{method}"


async def test_options_left_unset_are_not_sent(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    await port(registry, pid, model).generate(GenInput(user="hi"), GenOptions())

    (request,) = mock.requests_for(pid)
    sent = set(request.body) | set(request.body.get("generationConfig", {}))
    assert not sent & {"temperature", "top_p", "topP", "stop", "stop_sequences", "stopSequences"}
    assert not sent & {"max_completion_tokens", "maxOutputTokens"}


async def test_stop_sequence_ends_the_answer_with_stop(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, model: str
) -> None:
    mock.enqueue(Scenario(text="alpha beta END gamma"))

    result = await port(registry, pid, model).generate(PROMPT, GenOptions(stop_sequences=("END",)))

    assert result.text.strip() == "alpha beta"
    assert result.finish_reason == "stop"


async def sent_body(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, *, stream: bool
) -> dict[str, Any]:
    provider = registry.bind(pid, MODELS[pid][0])
    if stream:
        gen = provider.stream(PROMPT, ALL_OPTIONS)
        assert [c async for c in gen]
    else:
        await provider.generate(PROMPT, ALL_OPTIONS)
    (request,) = mock.requests_for(pid)
    body: dict[str, Any] = request.body
    return body


@pytest.mark.parametrize("stream", [False, True])
async def test_gemini_calls_have_function_calling_off_and_log_nothing(
    registry: ProviderRegistry, mock: MockLLMServer, stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # The gateway sends no tools; genai would otherwise log "AFC is enabled …" at INFO on every call.
    caplog.set_level(logging.INFO, logger="google_genai")
    adapter = port(registry, "gemini", "gemini-2.5-flash")
    if stream:
        assert [chunk async for chunk in adapter.stream(PROMPT)]
    else:
        await adapter.generate(PROMPT)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("google_genai")] == []


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("pid", ["openai", "anthropic"])
async def test_the_sdks_telemetry_headers_are_left_out(
    registry: ProviderRegistry, mock: MockLLMServer, pid: ProviderId, stream: bool
) -> None:
    await sent_body(registry, mock, pid, stream=stream)
    (request,) = mock.requests_for(pid)
    sent = {name.lower() for name in request.headers}
    assert not sent & {name.lower() for name in SDK_TELEMETRY_HEADERS}
    # The one left is how the SDK marks a raw (unparsed) answer for itself.
    assert {name for name in sent if name.startswith("x-stainless-")} <= {"x-stainless-raw-response"}
    # What the provider does need is still sent.
    assert request.headers.get("authorization") or request.headers.get("x-api-key")
    assert request.headers["content-type"] == "application/json"
