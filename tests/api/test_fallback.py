"""FALLBACK_PROVIDERS end to end (a real gateway, the mock upstream scripted per provider): the default route
falls back, says who served (GenResult, SSE ``start``, access line, metrics), and nothing else does."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from grompt_gateway.observability.log_json import JsonFormatter
from grompt_gateway.wiring import build_budget
from mockllm import MockLLMServer, Scenario
from tests.api.test_budget_http import Clock, windows
from tests.api.test_metrics_and_logs import _metric, _scrape
from tests.support.gateway import GatewayThread
from tests.support.sse import SSETranscript, read_sse

FALLBACK = ("openai", "anthropic")
DOWN = Scenario(status=503)
OPENAI_DEFAULT = "gpt-5.4-mini"


@pytest.fixture
def gateway(gateway_with: Callable[..., GatewayThread]) -> GatewayThread:
    """Default gemini, falling back to openai then anthropic."""
    return gateway_with(fallback_providers=FALLBACK)


def calls(mock: MockLLMServer) -> dict[str, int]:
    return {pid: len(mock.requests_for(pid)) for pid in ("gemini", "openai", "anthropic")}


def post(gateway: GatewayThread, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers, timeout=20)


def get_stream(gateway: GatewayThread, **params: str) -> SSETranscript:
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=params, timeout=20) as response:
        assert response.status_code == 200, response.read()
        return read_sse(response)


def access_line(caplog: pytest.LogCaptureFixture, route: str) -> dict[str, Any]:
    deadline = time.monotonic() + 3
    while not (records := [r for r in caplog.records if getattr(r, "route", "") == route]):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.02)
    line: dict[str, Any] = json.loads(JsonFormatter().format(records[-1]))
    return line


# --- JSON ---------------------------------------------------------------------------------------------

def test_json_falls_back_and_every_record_names_who_served(
        gateway: GatewayThread, mock_llm: MockLLMServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="grompt_gateway.access")
    mock_llm.enqueue(DOWN, provider="gemini", times=5)
    before = _scrape(gateway)

    response = post(gateway, {"user": "Tell me about rivers"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["provider"], body["model"]) == ("openai", OPENAI_DEFAULT)
    assert calls(mock_llm) == {"gemini": 2, "openai": 1, "anthropic": 0}
    after = _scrape(gateway)

    def added(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert added("grompt_gateway_fallbacks_total", **{"from": "gemini", "to": "openai"}) == 1
    served = {"provider": "openai", "model": OPENAI_DEFAULT}
    assert added("grompt_gateway_tokens_total", type="completion", **served) == body["usage"]["completion"]
    assert added("grompt_gateway_job_latency_seconds_count", **served) == 1
    assert added("grompt_gateway_job_latency_seconds_count", provider="gemini") == 0
    line = access_line(caplog, "/v1/generate")
    assert (line["fallback_from"], line["provider"], line["model"]) == ("gemini", "openai", OPENAI_DEFAULT)


def test_json_with_a_long_retry_after_moves_on_at_once(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(Scenario(status=429, retry_after_s=60), provider="gemini", times=3)

    response = post(gateway, {"user": "hi"})

    assert response.json()["provider"] == "openai"
    assert calls(mock_llm) == {"gemini": 1, "openai": 1, "anthropic": 0}


def test_json_attempts_are_capped_at_three_upstream_calls(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    for pid in ("gemini", "openai", "anthropic"):
        mock_llm.enqueue(DOWN, provider=pid, times=5)

    response = post(gateway, {"user": "hi"})

    assert response.status_code == 502 and response.json()["error"]["code"] == "upstream_error"
    assert sum(calls(mock_llm).values()) == 3


@pytest.mark.parametrize("body", [
    {"provider": "gemini", "user": "hi"},  # a named provider, even the default one
    {"model": "gemini-2.5-pro", "user": "hi"},  # a model the user picked is never substituted
], ids=["provider", "model"])
def test_json_naming_a_provider_or_another_model_never_falls_back(
        gateway: GatewayThread, mock_llm: MockLLMServer, body: dict[str, str]) -> None:
    mock_llm.enqueue(DOWN, provider="gemini", times=5)

    response = post(gateway, body)

    assert response.status_code == 502
    assert calls(mock_llm) == {"gemini": 3, "openai": 0, "anthropic": 0}


def test_json_naming_the_default_model_is_the_default_route(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(DOWN, provider="gemini", times=5)
    assert post(gateway, {"model": "gemini-2.5-flash", "user": "hi"}).json()["provider"] == "openai"


def test_a_client_fault_never_falls_back(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(Scenario(status=400), provider="gemini", times=3)

    response = post(gateway, {"user": "hi"})

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert calls(mock_llm) == {"gemini": 1, "openai": 0, "anthropic": 0}


def test_an_unconfigured_default_is_served_by_the_fallback(
        start_gateway: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    gateway = start_gateway(openai_api_key="k", openai_base_url=mock_llm.openai_base_url,
                            fallback_providers=("openai",))

    response = post(gateway, {"user": "hi"})

    assert response.status_code == 200 and response.json()["provider"] == "openai"
    assert calls(mock_llm) == {"gemini": 0, "openai": 1, "anthropic": 0}
    providers = httpx.get(f"{gateway.url}/v1/providers").json()
    assert providers["fallback"] == ["openai"]
    assert providers["default"]["provider"] == "gemini"
    # A request that names the unconfigured provider still gets its 503.
    assert post(gateway, {"provider": "gemini", "user": "hi"}).status_code == 503


def test_providers_show_the_fallback_order(gateway: GatewayThread,
                                           gateway_with: Callable[..., GatewayThread]) -> None:
    assert httpx.get(f"{gateway.url}/v1/providers").json()["fallback"] == ["openai", "anthropic"]
    assert httpx.get(f"{gateway_with().url}/v1/providers").json()["fallback"] == []


def test_an_idempotent_replay_returns_what_the_fallback_produced(
        gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(DOWN, provider="gemini", times=5)
    first = post(gateway, {"user": "hi"}, **{"Idempotency-Key": "fb-1"})
    assert first.json()["provider"] == "openai"

    replay = post(gateway, {"user": "hi"}, **{"Idempotency-Key": "fb-1"})

    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert calls(mock_llm) == {"gemini": 2, "openai": 1, "anthropic": 0}


# --- streams, before their first chunk ----------------------------------------------------------------

def test_stream_start_names_the_provider_that_served(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(DOWN, provider="gemini", times=5)

    transcript = get_stream(gateway, user="Tell me about rivers")

    assert transcript.types[0] == "start" and transcript.types[-1] == "done"
    assert (transcript.events[0].data["provider"], transcript.events[0].data["model"]) == ("openai", OPENAI_DEFAULT)
    assert calls(mock_llm) == {"gemini": 2, "openai": 1, "anthropic": 0}


def test_stream_committed_before_its_first_chunk_still_names_who_served(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="grompt_gateway.access")
    gateway = gateway_with(fallback_providers=FALLBACK, sse_heartbeat_s=0.2, request_timeout_ms=3_000)
    mock_llm.enqueue(Scenario(hang=True), provider="gemini")

    transcript = get_stream(gateway, user="hi")

    assert transcript.comments and transcript.comments[0] == "ping"  # the 200 went out before any chunk
    assert transcript.types[0] == "start" and transcript.types[-1] == "done"
    assert transcript.events[0].data["provider"] == "openai"
    assert calls(mock_llm) == {"gemini": 1, "openai": 1, "anthropic": 0}
    line = access_line(caplog, "/v1/generate/stream")
    assert (line["fallback_from"], line["provider"]) == ("gemini", "openai")


def test_stream_that_fails_everywhere_after_its_commit_sends_the_error_alone(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(fallback_providers=("openai",), sse_heartbeat_s=0.2, request_timeout_ms=1_000)
    mock_llm.enqueue(Scenario(hang=True), provider="gemini")
    mock_llm.enqueue(Scenario(hang=True), provider="openai")

    transcript = get_stream(gateway, user="hi")

    assert transcript.types == ["error"]  # no start: nobody served
    assert transcript.last("error")["status"] == 504
    assert calls(mock_llm) == {"gemini": 1, "openai": 1, "anthropic": 0}


def test_stream_naming_a_provider_never_falls_back(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(DOWN, provider="gemini", times=5)

    response = httpx.get(f"{gateway.url}/v1/generate/stream", params={"provider": "gemini", "user": "hi"},
                         timeout=20)

    assert response.status_code == 502
    assert calls(mock_llm) == {"gemini": 3, "openai": 0, "anthropic": 0}


# --- streams, after their first chunk -----------------------------------------------------------------

def test_stream_failing_after_its_first_chunk_ends_with_an_error_and_no_fallback(
        gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(Scenario(midstream_error=2, chunks=10), provider="gemini", times=3)

    transcript = get_stream(gateway, user="hi")

    assert transcript.types[:3] == ["start", "chunk", "chunk"] and transcript.types[-1] == "error"
    assert transcript.events[0].data["provider"] == "gemini"
    assert transcript.last("error")["status"] == 502
    assert calls(mock_llm) == {"gemini": 1, "openai": 0, "anthropic": 0}


# --- budgets ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_one_reservation_covers_whoever_serves_with_the_same_cap_on_every_attempt(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer, stream: bool) -> None:
    gateway = gateway_with(fallback_providers=FALLBACK, token_budget_per_day=100_000, max_output_tokens=777)
    gateway.app.services.budget = build_budget(gateway.settings, clock=Clock())  # a day that cannot end mid-test
    mock_llm.enqueue(DOWN, provider="gemini", times=5)

    if stream:
        transcript = get_stream(gateway, user="hi")
        served, usage = transcript.events[0].data["provider"], transcript.last("done")["usage"]
    else:
        body = post(gateway, {"user": "hi"}).json()
        served, usage = body["provider"], body["usage"]

    assert served == "openai"
    caps = [r.body["generationConfig"]["maxOutputTokens"] for r in mock_llm.requests_for("gemini")]
    caps += [r.body["max_completion_tokens"] for r in mock_llm.requests_for("openai")]
    assert caps == [777, 777, 777]
    day = windows(gateway, {})["day"]
    assert (day["used"], day["reserved"]) == (usage["total"], 0)
