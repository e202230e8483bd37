"""SSE streaming (docs/api.md § The event stream): event sequence, live arrival, heartbeats, errors on both
sides of the first byte, reconnects, and cancellation of the upstream when the client leaves."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from mockllm import MockLLMServer
from tests.api.conftest import PROVIDERS
from tests.support.gateway import GatewayThread
from tests.support.sse import SSETranscript, read_sse


def _get_stream(gateway: GatewayThread, **params: str | list[str]) -> SSETranscript:
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=params, timeout=10) as response:
        assert response.status_code == 200, response.read()
        return read_sse(response)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_get_stream_sends_start_chunks_done_with_usage(gateway: GatewayThread, provider: str) -> None:
    transcript = _get_stream(gateway, provider=provider, user="Tell me a story")
    types = transcript.types
    assert types[0] == "start" and types[-1] == "done"
    assert set(types[1:-1]) == {"chunk"} and len(types) > 4
    start = transcript.events[0].data
    assert start["provider"] == provider and start["model"] and start["requestId"]
    done = transcript.last("done")
    assert done["finishReason"]
    assert done["usage"]["completion"] > 0
    assert done["usage"]["total"] == done["usage"]["prompt"] + done["usage"]["completion"]
    ids = [event.id for event in transcript.events]
    assert ids == [f"{start['requestId']}:{n}" for n in range(1, len(ids) + 1)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_post_with_stream_true_answers_the_same_stream(gateway: GatewayThread, provider: str) -> None:
    body = {"provider": provider, "user": "hi", "stream": True, "options": {"maxTokens": 5}}
    with httpx.stream("POST", f"{gateway.url}/v1/generate", json=body, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        transcript = read_sse(response)
    assert transcript.types[0] == "start" and transcript.types[-1] == "done"
    assert transcript.last("done")["usage"]["completion"] <= 5


def test_post_with_accept_event_stream_answers_sse(gateway: GatewayThread) -> None:
    with httpx.stream("POST", f"{gateway.url}/v1/generate", json={"user": "hi", "provider": "openai"},
                      headers={"Accept": "text/event-stream"}, timeout=10) as response:
        assert read_sse(response).types[-1] == "done"


def test_stream_headers_disable_buffering_and_compression(gateway: GatewayThread) -> None:
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params={"user": "hi", "provider": "openai"},
                      headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in response.headers
        assert response.headers["x-request-id"]
        response.read()


def test_stop_may_repeat_and_query_options_reach_the_provider(gateway: GatewayThread,
                                                              mock_llm: MockLLMServer) -> None:
    _get_stream(gateway, provider="gemini", user="hi", system="Be brief", temperature="0.4", topP="0.9",
                maxTokens="12", stop=["END", "FIN"])
    config = mock_llm.requests_for("gemini")[0].body["generationConfig"]
    assert config["stopSequences"] == ["END", "FIN"]
    assert (config["temperature"], config["topP"], config["maxOutputTokens"]) == (0.4, 0.9, 12)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chunks_arrive_as_the_provider_yields_them(gateway: GatewayThread, provider: str) -> None:
    transcript = _get_stream(gateway, provider=provider, user="hi [mock chunks=6 gap_ms=250]")
    chunks = [e.arrived_s for e in transcript.events if e.data["type"] == "chunk"]
    assert len(chunks) == 6
    # The first chunk is in the browser ~1.25 s before the provider has produced the last one.
    assert chunks[-1] - chunks[0] > 1.0
    gaps = [b - a for a, b in itertools.pairwise(chunks)]
    assert min(gaps) > 0.15


def test_idle_stream_gets_ping_comments(gateway_with: Callable[..., GatewayThread]) -> None:
    gateway = gateway_with(sse_heartbeat_s=0.2)
    transcript = _get_stream(gateway, provider="openai", user="hi [mock chunks=3 gap_ms=700]")
    assert transcript.comments.count("ping") >= 3
    assert transcript.types[-1] == "done"


@pytest.mark.parametrize(("user", "status", "code"), [
    ("hi [mock status=429 retry_after=0]", 502, "upstream_error"),
    ("hi [mock status=400]", 400, "invalid_request"),
])
def test_errors_before_the_first_byte_are_json_with_a_real_status(
        gateway: GatewayThread, mock_llm: MockLLMServer, user: str, status: int, code: str) -> None:
    for provider in PROVIDERS:
        response = httpx.get(f"{gateway.url}/v1/generate/stream", params={"provider": provider, "user": user},
                             timeout=20)
        assert response.status_code == status, (provider, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == code


def test_stream_without_key_answers_503_json(start_gateway: Callable[..., GatewayThread]) -> None:
    response = httpx.get(f"{start_gateway().url}/v1/generate/stream", params={"user": "hi"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_not_configured"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_failure_mid_stream_ends_with_an_error_event(gateway: GatewayThread, provider: str) -> None:
    transcript = _get_stream(gateway, provider=provider, user="hi [mock midstream_error=2]")
    assert transcript.types[:3] == ["start", "chunk", "chunk"]
    assert transcript.types[-1] == "error"
    error = transcript.last("error")
    assert error["status"] == 502 and error["error"]["code"] == "upstream_error"


def test_reset_mid_stream_ends_with_an_error_event(gateway: GatewayThread) -> None:
    transcript = _get_stream(gateway, provider="openai", user="hi [mock reset_after=2]")
    assert transcript.types[-1] == "error"


def test_stalled_stream_ends_with_a_timeout_event(gateway_with: Callable[..., GatewayThread],
                                                  mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(request_timeout_ms=600, sse_heartbeat_s=0.2)
    transcript = _get_stream(gateway, provider="anthropic", user="hi [mock stall_after=2]")
    assert transcript.types[-1] == "error"
    assert transcript.last("error")["status"] == 504
    assert transcript.last("error")["error"]["code"] == "timeout"
    assert mock_llm.wait_for_disconnect(timeout_s=3)


def test_reconnect_with_last_event_id_answers_204_and_never_generates(gateway: GatewayThread,
                                                                      mock_llm: MockLLMServer) -> None:
    response = httpx.get(f"{gateway.url}/v1/generate/stream", params={"user": "hi"},
                         headers={"Last-Event-ID": "abc:3"})
    assert response.status_code == 204
    assert "content-type" not in response.headers  # no body, so no type
    assert mock_llm.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_client_disconnect_cancels_the_upstream_at_once(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                        provider: str) -> None:
    request = (f"GET /v1/generate/stream?provider={provider}&user=hi%20%5Bmock%20chunks%3D100%20gap_ms%3D50%5D "
               f"HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b'"type":"chunk"') < 3:
            received += sock.recv(65536)
        closed_at = time.monotonic()
    assert mock_llm.wait_for_disconnect(timeout_s=3)
    entry = mock_llm.disconnects[0]
    assert entry.disconnected_s is not None and entry.disconnected_s - closed_at < 0.5
    assert entry.chunks_sent < 30
