"""POST /v1/generate answering a GenResult, per provider, through the real SDKs and a mock upstream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from mockllm import MockLLMServer
from tests.api.conftest import PROVIDERS
from tests.support.gateway import GatewayThread


@pytest.mark.parametrize("provider", PROVIDERS)
def test_generate_answers_gen_result_with_usage(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                provider: str) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", json={"provider": provider, "user": "Write a haiku"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provider"] == provider and body["text"]
    assert body["model"] == {"openai": "gpt-5.4-mini", "anthropic": "claude-sonnet-4-6",
                             "gemini": "gemini-2.5-flash"}[provider]
    usage = body["usage"]
    assert usage["prompt"] > 0 and usage["completion"] > 0
    assert usage["total"] == usage["prompt"] + usage["completion"]
    assert body["finishReason"]
    assert len(mock_llm.requests_for(provider)) == 1


def test_default_provider_and_model_come_from_settings(gateway_with: Callable[..., GatewayThread],
                                                       mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(default_provider="anthropic", default_model="claude-haiku-4-5")
    body = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}).json()
    assert (body["provider"], body["model"]) == ("anthropic", "claude-haiku-4-5")
    # DEFAULT_MODEL belongs to anthropic: another provider falls back to its own first model.
    body = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "user": "hi"}).json()
    assert body["model"] == "gpt-5.4-mini"


@pytest.mark.parametrize(("provider", "expected"), [
    ("openai", {"temperature": 0.3, "top_p": 0.8, "max_completion_tokens": 77, "stop": ["END", "STOP"]}),
    ("anthropic", {"max_tokens": 77, "stop_sequences": ["END", "STOP"]}),
    ("gemini", {"generationConfig": {"temperature": 0.3, "topP": 0.8, "maxOutputTokens": 77,
                                     "stopSequences": ["END", "STOP"]}}),
])
def test_options_and_system_reach_the_provider_natively(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                        provider: str, expected: dict[str, object]) -> None:
    options = {"temperature": 0.3, "topP": 0.8, "maxTokens": 77, "stopSequences": ["END", "STOP"]}
    response = httpx.post(f"{gateway.url}/v1/generate", json={
        "provider": provider, "system": "Be terse.", "user": "hi", "options": options})
    assert response.status_code == 200, response.text
    sent = mock_llm.requests_for(provider)[0].body
    for key, value in expected.items():
        if isinstance(value, dict):
            assert {k: sent[key][k] for k in value} == value
        else:
            assert sent[key] == value
    system = {"openai": lambda b: b["messages"][0], "anthropic": lambda b: b["system"],
              "gemini": lambda b: b["systemInstruction"]}[provider](sent)
    assert "Be terse." in str(system)


@pytest.mark.parametrize(("body", "fragment"), [
    ({}, "user"),
    ({"user": ""}, "user"),
    ({"user": "   "}, "user"),
    ({"user": 5}, "user"),
    ({"user": "hi", "provider": "mistral"}, "provider"),
    ({"user": "hi", "options": {"temperature": 2.5}}, "temperature"),
    ({"user": "hi", "options": {"topP": -0.1}}, "topP"),
    ({"user": "hi", "options": {"maxTokens": 0}}, "maxTokens"),
    ({"user": "hi", "options": {"maxTokens": 10_000_000}}, "maxTokens"),
    ({"user": "hi", "options": {"stopSequences": ["a", "b", "c", "d", "e"]}}, "stopSequences"),
    ({"user": "hi", "model": "../../etc"}, "model"),
    ({"user": "x" * 200_001}, "prompt"),
])
def test_invalid_bodies_answer_400_invalid_request(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                   body: dict[str, object], fragment: str) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert fragment in error["message"]
    assert "x" * 50 not in error["message"]  # never echoes prompt text
    assert mock_llm.requests == []


def test_malformed_json_answers_400(gateway: GatewayThread) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", content=b'{"user": ',
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_provider_without_key_answers_503(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway()
    response = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "user": "hi"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_not_configured"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_upstream_failures_are_retried_twice_then_answer_502(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                             status: int) -> None:
    user = f"hi [mock status={status} retry_after=0]"
    response = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "user": user}, timeout=20)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"
    assert len(mock_llm.requests_for("openai")) == 3


def test_upstream_recovers_within_the_retries(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    user = "hi [mock status=429 times=2 retry_after=0]"
    response = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "gemini", "user": user}, timeout=20)
    assert response.status_code == 200
    assert len(mock_llm.requests_for("gemini")) == 3


def test_upstream_auth_failure_is_not_retried(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate",
                          json={"provider": "anthropic", "user": "hi [mock status=401]"})
    assert response.status_code == 502
    assert "test-anthropic-key" not in response.text
    assert len(mock_llm.requests_for("anthropic")) == 1


def test_deadline_answers_504_and_aborts_the_upstream(gateway_with: Callable[..., GatewayThread],
                                                      mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(request_timeout_ms=400)
    response = httpx.post(f"{gateway.url}/v1/generate", json={"provider": "openai", "user": "hi [mock hang=1]"},
                          timeout=10)
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "timeout"
    assert mock_llm.wait_for_disconnect(timeout_s=3)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_client_leaving_a_json_generate_cancels_the_upstream(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                             provider: str) -> None:
    outcome: list[object] = []

    def leave_early() -> None:  # an exception here would not fail the test: record what happened instead
        try:
            httpx.post(f"{gateway.url}/v1/generate",
                       json={"provider": provider, "user": "hi [mock delay_ms=4000]"}, timeout=0.5)
        except httpx.ReadTimeout:
            outcome.append("left")
        except Exception as exc:
            outcome.append(exc)
        else:
            outcome.append("answered")

    thread = threading.Thread(target=leave_early)
    started = time.monotonic()
    thread.start()
    thread.join(5)
    assert outcome == ["left"]
    assert mock_llm.wait_for_disconnect(timeout_s=3)
    # The mock would have needed 4 s to finish: the call was aborted, not finished for nobody.
    assert time.monotonic() - started < 3.5
