"""Demo mode: off unless asked for; when on, the built-in mock LLM backs all three providers through
their real SDKs (JSON and streaming), it is announced, and it stops with the gateway."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from grompt_gateway.config import GatewaySettings
from tests.demo.conftest import PROVIDERS, demo_mock
from tests.support.gateway import GatewayThread
from tests.support.sse import read_sse

# What each SDK calls itself on the wire: proof the request went through the real client library.
# Generous: the first request of a process imports the three SDKs, which takes seconds on a busy machine.
TIMEOUT_S = 30.0
SDK_USER_AGENTS = {"openai": "AsyncOpenAI/Python", "anthropic": "AsyncAnthropic/Python",
                   "gemini": "google-genai-sdk/"}


def test_demo_mode_is_off_unless_asked_for() -> None:
    assert GatewaySettings.from_env({}, env_file=None).demo is False
    assert GatewaySettings.from_env({"GROMPT_DEMO": "0"}, env_file=None).demo is False
    assert GatewaySettings.from_env({"GROMPT_DEMO": "1"}, env_file=None).demo is True


def test_without_demo_and_keys_providers_are_honestly_not_configured(
    start_gateway: Callable[..., GatewayThread],
) -> None:
    gateway = start_gateway()
    providers = httpx.get(f"{gateway.url}/v1/providers", timeout=TIMEOUT_S).json()
    assert providers["demo"] is False
    assert [(p["id"], p["configured"]) for p in providers["providers"]] == [(p, False) for p in PROVIDERS]
    assert httpx.get(f"{gateway.url}/v1/health").json()["demo"] is False
    refused = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi", "provider": "openai"}, timeout=TIMEOUT_S)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "provider_not_configured"


def test_demo_mode_is_announced_in_health_providers_and_a_warning_log(
    start_gateway: Callable[..., GatewayThread], caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="grompt_gateway.demo"):
        gateway = start_gateway(demo=True, demo_chunk_delay_ms=0)
    assert httpx.get(f"{gateway.url}/v1/health").json() == {"status": "ok", "demo": True}
    providers = httpx.get(f"{gateway.url}/v1/providers", timeout=TIMEOUT_S).json()
    assert providers["demo"] is True
    assert all(p["configured"] for p in providers["providers"])
    announcements = [r for r in caplog.records if r.name == "grompt_gateway.demo"]
    assert [r.levelname for r in announcements] == ["WARNING"]
    assert "DEMO MODE" in announcements[0].getMessage()
    assert getattr(announcements[0], "mock_url", "").startswith("http://127.0.0.1:")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_demo_provider_answers_json_through_its_sdk(demo_gateway: GatewayThread, provider: str) -> None:
    response = httpx.post(f"{demo_gateway.url}/v1/generate", timeout=TIMEOUT_S,
                          json={"provider": provider, "user": "Tell me about tides", "system": "Be brief."})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["provider"] == provider and "tides" in result["text"]
    usage = result["usage"]
    assert usage["prompt"] > 0 and usage["completion"] > 0
    assert usage["total"] == usage["prompt"] + usage["completion"]
    assert result["finishReason"] == "stop"
    (upstream,) = demo_mock(demo_gateway).requests_for(provider)
    assert upstream.headers["user-agent"].startswith(SDK_USER_AGENTS[provider])
    assert upstream.stream is False and upstream.outcome == "completed"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_demo_provider_streams_through_its_sdk(demo_gateway: GatewayThread, provider: str) -> None:
    params = {"provider": provider, "user": "Tell me about tides", "maxTokens": "12"}
    with httpx.stream("GET", f"{demo_gateway.url}/v1/generate/stream", params=params, timeout=TIMEOUT_S) as response:
        assert response.status_code == 200
        transcript = read_sse(response)
    assert transcript.types[0] == "start" and transcript.types[-1] == "done"
    assert transcript.types.count("chunk") == 12
    done = transcript.last("done")
    assert done["finishReason"] == "length" and done["usage"]["completion"] == 12
    (upstream,) = demo_mock(demo_gateway).requests_for(provider)
    assert upstream.headers["user-agent"].startswith(SDK_USER_AGENTS[provider])
    assert upstream.stream is True and upstream.outcome == "completed"


def test_demo_mock_uses_the_configured_chunk_delay_and_stops_with_the_gateway(
    start_gateway: Callable[..., GatewayThread],
) -> None:
    gateway = start_gateway(demo=True, demo_chunk_delay_ms=25)
    mock = demo_mock(gateway)
    assert mock.chunk_delay_s == pytest.approx(0.025)
    assert httpx.get(f"{mock.url}/health").status_code == 200
    gateway.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{mock.url}/health", timeout=2)
