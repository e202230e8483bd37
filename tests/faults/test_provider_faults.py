"""Each provider wire misbehaving at the mock (docs/api.md § Errors): through a real gateway, every fault ends in a
contract outcome, for JSON and for streams: a JSON error status before the first chunk, an ``error`` event after
it, never ``done`` for a cut stream, never a 500. Faults are ``[mock ...]`` directives (mockllm/README.md)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockllm import MockLLMServer
from tests.api.conftest import PROVIDERS
from tests.support.gateway import GatewayThread
from tests.support.sse import SSETranscript, read_sse

# A 200 that is not the provider's answer, or a connection that breaks: always 502 upstream_error.
JSON_FAULTS = ["body=html", "body=garbage", "body=truncated", "body=shape", "body=array", "reset_after=2",
               "status=503 body=html"]
# Counts that are not numbers: Gemini's SDK validates them (a string of digits is a number to it).
STRING_COUNT_PROVIDERS = ["openai", "anthropic"]
# Broken before any text: the stream's status is still open, so it is a real 502.
EARLY_STREAM_FAULTS = ["body=html", "body=garbage", "body=truncated", "body=cut", "body=shape", "body=array",
                       "status=503 body=html"]
# Broken after three chunks: an error event, never done.
LATE_STREAM_FAULTS = ["body=cut after=3", "body=truncated after=3", "body=html after=3", "body=garbage after=3",
                      "body=shape after=3", "reset_after=3"]


def generate(gateway: GatewayThread, provider: str, fault: str) -> httpx.Response:
    body = {"provider": provider, "user": f"hello there [mock {fault}]"}
    return httpx.post(f"{gateway.url}/v1/generate", json=body, timeout=15)


def stream(gateway: GatewayThread, provider: str, fault: str) -> tuple[int, Any]:
    """The status and, for a 200, the SSE transcript; for an error status, its JSON body."""
    params = {"provider": provider, "user": f"hello there [mock {fault}]"}
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=params, timeout=15) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.json()
        return 200, read_sse(response)


def error_of(status: int, body: Any) -> tuple[int, str]:
    assert isinstance(body, dict), body
    return status, body["error"]["code"]


def ended_with_error(transcript: SSETranscript) -> dict[str, Any]:
    """The stream's error event, checked against the contract: start, chunks, one error, no done."""
    types = transcript.types
    assert types[0] == "start" and types[-1] == "error", types
    assert "done" not in types
    assert set(types[1:-1]) <= {"chunk"}
    return transcript.last("error")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", JSON_FAULTS)
def test_json_answer_that_is_not_the_providers_is_502(patient_gateway: GatewayThread, mock_llm: MockLLMServer,
                                                      provider: str, fault: str) -> None:
    response = generate(patient_gateway, provider, fault)

    assert error_of(response.status_code, response.json()) == (502, "upstream_error")
    assert mock_llm.requests_for(provider)


@pytest.mark.parametrize("provider", STRING_COUNT_PROVIDERS)
def test_token_counts_that_are_not_numbers_are_502(patient_gateway: GatewayThread, mock_llm: MockLLMServer,
                                                   provider: str) -> None:
    response = generate(patient_gateway, provider, "body=strings")

    assert error_of(response.status_code, response.json()) == (502, "upstream_error")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", EARLY_STREAM_FAULTS)
def test_stream_broken_before_its_first_chunk_is_a_502_status(patient_gateway: GatewayThread,
                                                              mock_llm: MockLLMServer, provider: str,
                                                              fault: str) -> None:
    status, body = stream(patient_gateway, provider, fault)

    assert error_of(status, body) == (502, "upstream_error")


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", LATE_STREAM_FAULTS)
def test_stream_broken_after_chunks_ends_with_an_error_event_never_done(patient_gateway: GatewayThread,
                                                                        mock_llm: MockLLMServer, provider: str,
                                                                        fault: str) -> None:
    status, transcript = stream(patient_gateway, provider, fault)

    assert status == 200
    error = ended_with_error(transcript)
    assert (error["status"], error["error"]["code"]) == (502, "upstream_error")
    assert transcript.types.count("chunk") == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_stream_cut_cleanly_says_it_ended_early(patient_gateway: GatewayThread, mock_llm: MockLLMServer,
                                                  provider: str) -> None:
    status, transcript = stream(patient_gateway, provider, "body=cut after=3")

    assert status == 200
    assert "stream ended early" in ended_with_error(transcript)["error"]["message"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_huge_chunk_arrives_whole(patient_gateway: GatewayThread, mock_llm: MockLLMServer,
                                      provider: str) -> None:
    response = generate(patient_gateway, provider, "huge_kb=512")
    status, transcript = stream(patient_gateway, provider, "huge_kb=512")

    assert response.status_code == 200 and len(response.json()["text"]) > 512 * 1024
    assert status == 200 and transcript.types[-1] == "done"
    assert len(transcript.events[1].data["text"]) == 512 * 1024


@pytest.mark.parametrize("provider", PROVIDERS)
def test_silence_after_the_head_is_a_timeout_and_closes_the_upstream_call(
    impatient_gateway: GatewayThread, mock_llm: MockLLMServer, provider: str
) -> None:
    response = generate(impatient_gateway, provider, "silence=1")
    status, body = stream(impatient_gateway, provider, "silence=1")

    assert error_of(response.status_code, response.json()) == (504, "timeout")
    assert error_of(status, body) == (504, "timeout")
    assert mock_llm.wait_for_disconnect(timeout_s=5, count=2)
    assert [r.outcome for r in mock_llm.requests_for(provider)] == ["cancelled", "cancelled"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stall_mid_stream_ends_with_a_timeout_event_and_closes_the_upstream_call(
    impatient_gateway: GatewayThread, mock_llm: MockLLMServer, provider: str
) -> None:
    status, transcript = stream(impatient_gateway, provider, "stall_after=3")

    assert status == 200
    error = ended_with_error(transcript)
    assert (error["status"], error["error"]["code"]) == (504, "timeout")
    assert mock_llm.wait_for_disconnect(timeout_s=5)
    assert [r.outcome for r in mock_llm.requests_for(provider)] == ["cancelled"]


def test_connection_refused_is_502_for_json_and_streams(start_gateway: Callable[..., GatewayThread]) -> None:
    with socket.socket() as sock:  # a port nobody listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    gateway = start_gateway(**{f"{p}_api_key": "k" for p in PROVIDERS},
                            **{f"{p}_base_url": closed + ("/v1" if p == "openai" else "") for p in PROVIDERS})
    for provider in PROVIDERS:
        response = generate(gateway, provider, "")
        assert error_of(response.status_code, response.json()) == (502, "upstream_error"), provider
        assert error_of(*stream(gateway, provider, "")) == (502, "upstream_error"), provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refusals_reach_the_client_as_whose_fault_they_are(patient_gateway: GatewayThread, mock_llm: MockLLMServer,
                                                           provider: str) -> None:
    unknown_model = generate(patient_gateway, provider, "status=404")
    bad_key = generate(patient_gateway, provider, "status=401")
    wrong_url = generate(patient_gateway, provider, "status=404 body=html")

    assert error_of(unknown_model.status_code, unknown_model.json()) == (400, "invalid_request")
    assert "unknown model" in unknown_model.json()["error"]["message"]
    assert error_of(bad_key.status_code, bad_key.json()) == (502, "upstream_error")
    assert error_of(wrong_url.status_code, wrong_url.json()) == (502, "upstream_error")
