"""Two gateway processes on one Redis share one token budget: together they never reserve more than it,
counted at the mock provider, and both report the same settled state."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from guards.token_estimate import prompt_tokens
from mockllm import MockLLMServer
from tests.support.process import free_port, start_process, stop_process, wait_healthy

pytestmark = pytest.mark.redis

RESERVED = prompt_tokens(user="hi", system=None) + 50  # maxTokens 50
BUDGET = 5 * RESERVED + 10  # room for five calls in flight, not six


@pytest.fixture(scope="module")
def gateways(redis_url: str, mock_llm_server: MockLLMServer) -> Iterator[tuple[str, str]]:
    """Two uvicorn processes (the README's command) on the session's Redis and mock LLM, with a day budget
    (a real minute could end mid-test) and X-Org-Id believed from loopback."""
    env = {"CACHE_URL": redis_url, "RATE_LIMIT_RPS": "0", "LOG_LEVEL": "WARNING",
           "TOKEN_BUDGET_PER_DAY": str(BUDGET), "TRUSTED_PROXIES": "127.0.0.1",
           "OPENAI_API_KEY": "test-openai-key", "OPENAI_BASE_URL": mock_llm_server.openai_base_url,
           "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": "gpt-4o-mini", "OPENAI_MODELS": "gpt-4o-mini"}
    processes: list[subprocess.Popen[str]] = []
    try:
        urls = []
        for port in (free_port(), free_port()):
            processes.append(start_process(["-m", "uvicorn", "grompt_gateway.asgi:application", "--port", str(port),
                                            "--no-proxy-headers", "--no-access-log"], env=env))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_healthy(url, process, timeout_s=60)
            httpx.get(f"{url}/v1/providers", timeout=60).raise_for_status()  # the SDK clients are built
        yield urls[0], urls[1]
    finally:
        for process in processes:
            stop_process(process)


def test_two_processes_never_reserve_more_than_one_shared_budget(gateways: tuple[str, str],
                                                                 mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue("delay_ms=3000", provider="openai", times=20)  # admitted calls stay in flight
    headers = {"X-Org-Id": uuid.uuid4().hex}
    body = {"user": "hi", "options": {"maxTokens": 50}}
    targets = [url for _ in range(6) for url in gateways]  # 12 calls, alternating between the processes
    with httpx.Client(headers=headers, timeout=20) as client, ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(lambda url: client.post(f"{url}/v1/generate", json=body), targets))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [429] * 7
    assert len(mock_llm.requests) == 5  # what reached the provider
    charged = sum(r.json()["usage"]["total"] for r in responses if r.status_code == 200)
    for url in gateways:
        [day] = httpx.get(f"{url}/v1/budget", headers=headers, timeout=10).json()["windows"]
        assert (day["window"], day["limit"], day["used"], day["reserved"]) == ("day", BUDGET, charged, 0)


def test_a_call_refused_by_one_process_fits_again_once_the_other_settles(gateways: tuple[str, str],
                                                                         mock_llm: MockLLMServer) -> None:
    one, two = gateways
    headers = {"X-Org-Id": uuid.uuid4().hex}
    big = {"user": "hi", "options": {"maxTokens": BUDGET - RESERVED}}  # most of the budget, while in flight
    small = {"user": "hi", "options": {"maxTokens": 50}}
    mock_llm.enqueue("delay_ms=1500", provider="openai")
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.post, f"{one}/v1/generate", json=big, headers=headers, timeout=20)
        assert mock_llm.wait_for_requests(count=1, timeout_s=10)
        refused = httpx.post(f"{two}/v1/generate", json=small, headers=headers, timeout=10)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "budget_exceeded"
        assert first.result().status_code == 200
    assert httpx.post(f"{two}/v1/generate", json=small, headers=headers, timeout=10).status_code == 200
    assert len(mock_llm.requests) == 2
