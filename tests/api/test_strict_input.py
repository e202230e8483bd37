"""Input is taken as the JSON types it arrives in: wrong types, non-object bodies and options, and
ambiguous or non-numeric query parameters are refused with 400 invalid_request before any provider
is called, with a message that names the field and never the value."""

from __future__ import annotations

import httpx
import pytest

from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread

SECRET = "PROMPT-TEXT-7Q"


def _refused(response: httpx.Response, mock: MockLLMServer, *, message: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == {"code": "invalid_request", "message": message}
    assert body["requestId"] == response.headers["x-request-id"]
    assert SECRET not in response.text
    assert mock.requests == []


@pytest.mark.parametrize(("body", "message"), [
    ({"user": "hi", "options": f"{SECRET} fast"}, "options: must be an object"),
    ({"user": "hi", "options": 5}, "options: must be an object"),
    ({"user": "hi", "options": []}, "options: must be an object"),
    ({"user": "hi", "options": True}, "options: must be an object"),
    ({"user": "hi", "options": {"maxTokens": True}}, "options.maxTokens: must be an integer"),
    ({"user": "hi", "options": {"maxTokens": 5.5}}, "options.maxTokens: must be an integer"),
    ({"user": "hi", "options": {"maxTokens": "5"}}, "options.maxTokens: must be an integer"),
    ({"user": "hi", "options": {"temperature": "0.5"}}, "options.temperature: must be a number"),
    ({"user": "hi", "options": {"topP": False}}, "options.topP: must be a number"),
    ({"user": "hi", "options": {"stopSequences": SECRET}}, "options.stopSequences: must be an array"),
    ({"user": "hi", "options": {"stopSequences": [1]}}, "options.stopSequences.0: must be a string"),
    ({"user": "hi", "stream": "yes"}, "stream: must be true or false"),
    ({"user": "hi", "stream": 1}, "stream: must be true or false"),
    ({"user": 5}, "user: must be a string"),
    ({"user": [SECRET]}, "user: must be a string"),
    ({"user": "hi", "system": {"role": SECRET}}, "system: must be a string"),
    ({"user": "hi", "provider": SECRET}, "provider: must be 'openai', 'anthropic' or 'gemini'"),
    ({"system": SECRET}, "user: required"),
    ([{"user": SECRET}], "body: must be a JSON object"),
    (SECRET, "body: must be a JSON object"),
    (42, "body: must be a JSON object"),
    (None, "body: must be a JSON object"),
])
def test_wrong_json_types_are_refused_not_coerced(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                  body: object, message: str) -> None:
    _refused(httpx.post(f"{gateway.url}/v1/generate", json=body), mock_llm, message=message)


@pytest.mark.parametrize("raw", [
    b'{"user": "hi", "options": {"temperature": NaN}}',
    b'{"user": "hi", "system": "\\udfff"}',
    b'{"user": "\\ud800 lone"}',
    b"\xff\xfe{}",
])
def test_a_body_that_is_not_rfc_8259_json_is_refused(gateway: GatewayThread, mock_llm: MockLLMServer,
                                                     raw: bytes) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", content=raw, headers={"content-type": "application/json"})
    _refused(response, mock_llm, message="malformed request body")


def test_an_empty_body_is_refused(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", headers={"content-type": "application/json"})
    _refused(response, mock_llm, message="body: must be a JSON object")


def test_an_int_is_a_valid_float_and_null_means_not_given(gateway: GatewayThread, mock_llm: MockLLMServer) -> None:
    response = httpx.post(f"{gateway.url}/v1/generate", json={
        "provider": "openai", "user": "hi", "system": None, "stream": None,
        "options": {"temperature": 1, "topP": 1, "maxTokens": 5, "stopSequences": None}})
    assert response.status_code == 200, response.text
    sent = mock_llm.requests[-1].body
    assert sent["temperature"] == 1 and sent["top_p"] == 1


@pytest.mark.parametrize(("query", "message"), [
    (f"user={SECRET}&user=again", "user: given more than once"),
    (f"user={SECRET}&maxTokens=5&maxTokens=6", "maxTokens: given more than once"),
    (f"user={SECRET}&provider=openai&provider=gemini", "provider: given more than once"),
    (f"user={SECRET}&temperature=warm", "temperature: must be a number"),
    (f"user={SECRET}&temperature=", "temperature: must be a number"),
    (f"user={SECRET}&temperature=nan", "temperature: must be a number"),
    (f"user={SECRET}&temperature=0x1", "temperature: must be a number"),
    (f"user={SECRET}&topP=true", "topP: must be a number"),
    (f"user={SECRET}&maxTokens=1.5", "maxTokens: must be an integer"),
    (f"user={SECRET}&maxTokens=true", "maxTokens: must be an integer"),
    (f"user={SECRET}&maxTokens=0", "maxTokens: must be greater than or equal to 1"),
    (f"user={SECRET}&temperature=2.5", "temperature: must be less than or equal to 2"),
    (f"system={SECRET}", "user: required"),
])
def test_stream_query_follows_the_same_rules(gateway: GatewayThread, mock_llm: MockLLMServer,
                                             query: str, message: str) -> None:
    _refused(httpx.get(f"{gateway.url}/v1/generate/stream?{query}"), mock_llm, message=message)


def test_stream_query_numbers_and_repeated_stop_reach_the_provider(gateway: GatewayThread,
                                                                   mock_llm: MockLLMServer) -> None:
    query = "provider=openai&user=hi&temperature=1&topP=0.5&maxTokens=7&stop=END&stop=%0A"
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream?{query}") as response:
        assert response.status_code == 200
        response.read()
    sent = mock_llm.requests[-1].body
    sent_options = (sent["temperature"], sent["top_p"], sent["max_completion_tokens"], sent["stop"])
    assert sent_options == (1, 0.5, 7, ["END", "\n"])
