"""Behind Debian's nginx with ``docs/nginx.conf`` (proxy_read_timeout shortened to 3 s, heartbeats every
second): chunks arrive as produced, a long silent first token survives through heartbeats, a client
that leaves still cancels the provider call, and the rate limit counts the real client address."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import httpx
import pytest

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.clock import Clock, fresh_clock
from tests.support.gateway import GatewayThread, settings
from tests.support.nginx import NGINX, Nginx

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")

READ_TIMEOUT_S = 3
_CLIENT_ADDRESSES = itertools.count(2)  # 127.0.0.2, 127.0.0.3, …: distinct clients, all on loopback


@pytest.fixture(scope="module")
def clock() -> Clock:
    """The gateway's clock: it stands still, and each test gets windows of its own (``own_windows``)."""
    return Clock()


@pytest.fixture(autouse=True)
def own_windows(clock: Clock) -> None:
    clock.now = fresh_clock().now


@pytest.fixture(scope="module")
def edge(mock_llm_server: MockLLMServer, tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[str]:
    gateway = GatewayThread(settings(**providers_on(mock_llm_server), sse_heartbeat_s=1.0, rate_limit_rps=2.0,
                                     trusted_proxies=("127.0.0.1",), default_provider="openai"), clock=clock)
    with gateway, Nginx(gateway_port=gateway.port, directory=tmp_path_factory.mktemp("nginx"),
                        read_timeout=f"{READ_TIMEOUT_S}s") as nginx:
        yield nginx.url


def _stream(url: str, prompt: str) -> httpx.Response:
    return httpx.Client(timeout=30).send(
        httpx.Request("GET", f"{url}/v1/generate/stream", params={"provider": "openai", "user": prompt}),
        stream=True)


def _events(lines: Iterator[str]) -> Iterator[dict[str, object]]:
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_chunks_arrive_as_the_provider_produces_them(edge: str, mock_llm: MockLLMServer) -> None:
    response = _stream(edge, "[mock chunks=6 gap_ms=300] hi")
    try:
        events = _events(response.iter_lines())
        assert next(events)["type"] == "start"
        assert next(events)["type"] == "chunk"
        (upstream,) = mock_llm.requests
        assert upstream.chunks_sent < 6  # the first chunk got through nginx while the provider was still writing
        rest = [event["type"] for event in events]
    finally:
        response.close()
    assert rest == ["chunk"] * 5 + ["done"]


def test_a_first_token_later_than_nginx_read_timeout_survives_through_heartbeats(
        edge: str, mock_llm: MockLLMServer) -> None:
    mock_llm.enqueue(f"delay_ms={(READ_TIMEOUT_S + 2) * 1000} chunks=2", provider="openai")
    response = _stream(edge, "hi")
    try:
        assert response.status_code == 200
        lines = list(response.iter_lines())
    finally:
        response.close()
    assert lines.count(": ping") >= READ_TIMEOUT_S  # what kept nginx reading
    assert [event["type"] for event in _events(iter(lines))] == ["start", "chunk", "chunk", "done"]


def test_a_client_that_leaves_cancels_the_provider_call(edge: str, mock_llm: MockLLMServer) -> None:
    response = _stream(edge, "[mock chunks=400 gap_ms=50] long")
    events = _events(response.iter_lines())
    assert [next(events)["type"], next(events)["type"]] == ["start", "chunk"]
    response.close()
    assert mock_llm.wait_for_disconnect(timeout_s=10)
    assert mock_llm.streams_completed == 0


def test_the_rate_limit_counts_the_real_client_not_what_it_claims(edge: str, mock_llm: MockLLMServer) -> None:
    one, other = (f"127.0.0.{next(_CLIENT_ADDRESSES)}" for _ in range(2))
    with _client(one) as client:  # claims to be someone else each time: forged hops, its own X-Org-Id
        statuses = [client.post(f"{edge}/v1/generate", json={"user": "hi"}, headers={
            "X-Forwarded-For": f"198.51.100.{n}", "X-Org-Id": f"org-{n}"}).status_code for n in range(3)]
    with _client(other) as client:
        other = client.post(f"{edge}/v1/generate", json={"user": "hi"}).status_code
    assert statuses == [200, 200, 429]  # one bucket, the client's real address, at 2 per second
    assert other == 200  # another address, another bucket


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)

