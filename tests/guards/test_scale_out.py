"""Two gateway processes on one Redis (CACHE_URL) share one rate limit and one idempotency key."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from mockllm import MockLLMServer
from tests.guards.windows import in_one_window
from tests.support.process import free_port, start_process, stop_process, wait_healthy

pytestmark = pytest.mark.redis

# 3 requests per 20 s windows: a burst hardly ever meets a window edge, and is run again when it does.
RATE_LIMIT_RPS, PERIOD_S = "0.15", 20


@pytest.fixture(scope="module")
def gateways(redis_url: str, mock_llm_server: MockLLMServer) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes (the README's command), both on the session's Redis and mock LLM."""
    # The tests are the trusted edge (TRUSTED_PROXIES), so an X-Org-Id gives each test its own bucket.
    env = {"CACHE_URL": redis_url, "RATE_LIMIT_RPS": RATE_LIMIT_RPS, "LOG_LEVEL": "WARNING",
           "TRUSTED_PROXIES": "127.0.0.1",
           "OPENAI_API_KEY": "test-openai-key", "OPENAI_BASE_URL": mock_llm_server.openai_base_url,
           "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": "gpt-4o-mini", "OPENAI_MODELS": "gpt-4o-mini"}
    ports = [free_port(), free_port()]
    processes: list[subprocess.Popen[str]] = []
    try:
        for port in ports:
            processes.append(start_process(["-m", "uvicorn", "grompt_gateway.asgi:application", "--port", str(port),
                                            "--no-proxy-headers", "--no-access-log"], env=env))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(_ready, urls, processes))
        yield urls[0], urls[1]
    finally:
        for process in processes:
            stop_process(process)


def _ready(url: str, process: subprocess.Popen[str]) -> None:
    wait_healthy(url, process, timeout_s=60)
    httpx.get(f"{url}/v1/providers", timeout=60).raise_for_status()  # the SDK clients are built


def test_one_limit_is_shared_by_both_processes(gateways: tuple[str, str], mock_llm: MockLLMServer) -> None:
    def alternate() -> list[httpx.Response]:
        mock_llm.reset()
        headers = {"X-Org-Id": uuid.uuid4().hex}
        return [client.post(f"{url}/v1/generate", json={"user": "hi"}, headers=headers) for url in gateways * 3]

    with httpx.Client(timeout=10) as client:
        responses = in_one_window(alternate, period_s=PERIOD_S)
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429, 429]
    assert len(mock_llm.requests) == 3


def test_a_key_answered_by_one_process_is_replayed_by_the_other(gateways: tuple[str, str],
                                                                mock_llm: MockLLMServer) -> None:
    one, two = gateways
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Org-Id": uuid.uuid4().hex}
    first = httpx.post(f"{one}/v1/generate", json={"user": "hi"}, headers=headers, timeout=10)
    repeat = httpx.post(f"{two}/v1/generate", json={"user": "hi"}, headers=headers, timeout=10)
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json() == first.json()
    reused = httpx.post(f"{two}/v1/generate", json={"user": "other"}, headers=headers, timeout=10)
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert len(mock_llm.requests) == 1


def test_a_repeat_on_the_other_process_waits_for_the_first_attempt(gateways: tuple[str, str],
                                                                   mock_llm: MockLLMServer) -> None:
    one, two = gateways
    mock_llm.enqueue("delay_ms=600")
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Org-Id": uuid.uuid4().hex}
    results: dict[str, httpx.Response] = {}
    first = threading.Thread(target=lambda: results.setdefault(
        "first", httpx.post(f"{one}/v1/generate", json={"user": "hi"}, headers=headers, timeout=10)))
    first.start()
    assert mock_llm.wait_for_requests(count=1, timeout_s=5)  # the first attempt is at the provider
    results["repeat"] = httpx.post(f"{two}/v1/generate", json={"user": "hi"}, headers=headers, timeout=10)
    first.join(10)
    assert results["first"].status_code == results["repeat"].status_code == 200
    assert results["repeat"].headers["idempotent-replayed"] == "true"
    assert results["repeat"].json() == results["first"].json()
    assert len(mock_llm.requests) == 1
    assert not mock_llm.requests[0].disconnected


def test_the_processes_keep_their_redis_connections(gateways: tuple[str, str], redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with httpx.Client(headers={"X-Org-Id": uuid.uuid4().hex}, timeout=10) as http:
        http.post(f"{gateways[0]}/v1/generate", json={"user": "hi"})  # the pools exist
        before = client.info()["total_connections_received"]
        deadline = time.monotonic() + 5
        for _ in range(20):
            assert time.monotonic() < deadline
            http.get(f"{gateways[0]}/v1/proxy/x")  # limited (counted in Redis), then refused
    assert client.info()["total_connections_received"] - before <= 2
    client.close()
