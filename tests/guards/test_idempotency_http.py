"""Idempotency-Key on POST /v1/generate, through a real gateway: replay, reuse, concurrency, failures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread

Start = Callable[..., GatewayThread]
BODY = {"user": "Write a haiku", "options": {"temperature": 0.2}}


def post(gateway: GatewayThread, *, key: str, body: object = BODY, **headers: str) -> httpx.Response:
    return httpx.post(f"{gateway.url}/v1/generate", json=body, timeout=10,
                      headers={"Idempotency-Key": key, **headers})


def test_a_repeat_gets_the_first_answer_replayed_and_the_provider_is_called_once(
        gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    key = uuid.uuid4().hex
    first = post(gateway, key=key)
    # Same body, other key order: the same request.
    repeat = post(gateway, key=key, body={"options": {"temperature": 0.2}, "user": "Write a haiku"})
    assert first.status_code == repeat.status_code == 200
    assert repeat.json() == first.json()
    assert repeat.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert repeat.headers["content-type"] == "application/json"
    assert repeat.headers["x-request-id"] != first.headers["x-request-id"]
    assert len(mock_llm.requests) == 1


def test_the_same_key_with_another_body_is_422(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    key = uuid.uuid4().hex
    assert post(gateway, key=key).status_code == 200
    reused = post(gateway, key=key, body={"user": "Something else"})
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert len(mock_llm.requests) == 1


def test_two_clients_never_share_a_key(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    key = uuid.uuid4().hex
    acme = post(gateway, key=key, **{"X-Org-Id": "acme"})
    globex = post(gateway, key=key, **{"X-Org-Id": "globex"})
    assert "idempotent-replayed" not in globex.headers
    assert acme.status_code == globex.status_code == 200
    assert len(mock_llm.requests) == 2


def test_concurrent_duplicates_call_the_provider_once(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    mock_llm.enqueue("delay_ms=400")  # the first attempt is still running when the others arrive
    key = uuid.uuid4().hex
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: post(gateway, key=key), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.text for r in responses}) == 1
    assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == ["", "true", "true", "true"]
    assert len(mock_llm.requests) == 1


def test_a_failed_first_attempt_is_not_stored_so_a_retry_runs(gateway_with: Start,
                                                               mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    mock_llm.enqueue("status=400")  # refused by the provider: no short retry inside MultiAI
    key = uuid.uuid4().hex
    failed = post(gateway, key=key)
    assert failed.status_code == 400
    retry = post(gateway, key=key)
    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    assert post(gateway, key=key).headers["idempotent-replayed"] == "true"
    assert len(mock_llm.requests) == 2


def test_a_malformed_key_is_400(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    for key in ("a" * 256, "two words"):
        response = post(gateway, key=key)
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json()["error"]["message"]
    assert mock_llm.requests == []


def test_streams_ignore_the_key(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with()
    key = uuid.uuid4().hex
    for _ in range(2):
        response = post(gateway, key=key, body={**BODY, "stream": True})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert len(mock_llm.requests) == 2
