"""The production command with two workers (``python -m grompt_gateway.serve --workers 2``) on one Redis:
``/metrics`` answers the sum over both workers whichever one serves the scrape, and the rate limit and
idempotency keys hold across workers."""

from __future__ import annotations

import shutil
import signal
import struct
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from mockllm import MockLLMServer
from tests.guards.windows import in_one_window
from tests.support.process import free_port, start_process, wait_healthy

pytestmark = pytest.mark.redis

REQUESTS = "grompt_gateway_http_requests_total"
# 17 requests per 20 s windows: a burst hardly ever meets a window edge (it is run again when it does), and
# an idempotency key's repeats all fit one client's window.
RATE_LIMIT_RPS, PERIOD_S = "0.85", 20
_ORG = {"X-Org-Id": "org-two-workers"}


@pytest.fixture(scope="module")
def served(redis_url: str, mock_llm_server: MockLLMServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``serve --workers 2``; its metrics directory starts with a stale, unreadable file that must be wiped."""
    metrics_dir = tmp_path_factory.mktemp("metrics")
    (metrics_dir / "counter_1.db").write_bytes(b"left over by an earlier run")
    port = free_port()
    process = start_process(["-m", "grompt_gateway.serve", "--workers", "2", "--port", str(port)], env={
        "CACHE_URL": redis_url, "RATE_LIMIT_RPS": RATE_LIMIT_RPS, "LOG_LEVEL": "WARNING",
        "TRUSTED_PROXIES": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "OPENAI_API_KEY": "test-openai-key",
        "OPENAI_BASE_URL": mock_llm_server.openai_base_url, "DEFAULT_PROVIDER": "openai",
        "DEFAULT_MODEL": "gpt-4o-mini", "OPENAI_MODELS": "gpt-4o-mini"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, timeout_s=60)
        _until_both_workers_served(url, metrics_dir)
        yield url, metrics_dir
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in out + err


def _per_worker(metrics_dir: Path, route: str) -> dict[str, float]:
    """Requests counted for ``route`` by each worker, read from the worker's own counter file."""
    return {path.stem: _counted(path, route) for path in metrics_dir.glob("counter_*.db")}


def _counted(path: Path, route: str) -> float:
    alone = path.parent / "one" / path.stem
    alone.mkdir(parents=True, exist_ok=True)
    for _ in range(50):  # bounded: a copy taken while its worker was still creating the file cannot be read
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        try:
            return sum(sample.value for family in registry.collect() for sample in family.samples
                       if sample.name == REQUESTS and sample.labels.get("route") == route)
        except struct.error:
            continue
    raise AssertionError(f"{path.name} stayed unreadable")


def _until_both_workers_served(url: str, metrics_dir: Path) -> None:
    """New connections land on either worker; go on (bounded) until both have answered a scrape."""
    for _ in range(200):
        httpx.get(f"{url}/metrics", timeout=10)  # a new connection each time
        if sum(1 for count in _per_worker(metrics_dir, "/metrics").values() if count) >= 2:
            return
    raise AssertionError("one worker answered every connection")


def _scraped_total(url: str, route: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == REQUESTS and sample.labels.get("route") == route)


def test_every_scrape_shows_the_sum_over_both_workers(served: tuple[str, Path]) -> None:
    url, metrics_dir = served
    for _ in range(20):
        assert httpx.get(f"{url}/v1/health", timeout=10).status_code == 200
    per_worker = _per_worker(metrics_dir, "/v1/health")
    assert len([count for count in per_worker.values() if count]) == 2  # both served health checks
    for _ in range(10):  # both workers answer some of these scrapes (see the fixture)
        assert _scraped_total(url, "/v1/health") == sum(per_worker.values()) >= 20


def test_one_rate_limit_across_workers(served: tuple[str, Path], mock_llm: MockLLMServer) -> None:
    url, _ = served

    def burst() -> list[int]:
        mock_llm.reset()
        headers = {"X-Org-Id": uuid.uuid4().hex}
        return [response.status_code for response in _together(url, headers=headers, count=20)]

    assert sorted(in_one_window(burst, period_s=PERIOD_S)) == [200] * 17 + [429] * 3
    assert len(mock_llm.requests) == 17


def test_an_idempotency_key_holds_across_workers(served: tuple[str, Path], mock_llm: MockLLMServer) -> None:
    url, metrics_dir = served
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Org-Id": uuid.uuid4().hex}
    before = _per_worker(metrics_dir, "/v1/generate")
    answers: list[httpx.Response] = []
    for _ in range(5):  # bounded: until both workers have answered this key (15 requests fit one org's limit)
        answers += _together(url, headers=headers, count=3)
        after = _per_worker(metrics_dir, "/v1/generate")
        if all(after[worker] > before.get(worker, 0) for worker in after):
            break
    assert len(after) == 2 and all(after[worker] > before.get(worker, 0) for worker in after)
    assert [a.status_code for a in answers] == [200] * len(answers)
    replayed = [a.headers.get("idempotent-replayed") for a in answers]
    assert (replayed.count(None), replayed.count("true")) == (1, len(answers) - 1)
    assert len({a.text for a in answers}) == 1
    assert len(mock_llm.requests) == 1


def _together(url: str, *, headers: dict[str, str], count: int) -> list[httpx.Response]:
    """``count`` generate calls at once, each on its own connection."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: httpx.post(f"{url}/v1/generate", json={"user": "hi"}, headers=headers,
                                                  timeout=10), range(count)))
