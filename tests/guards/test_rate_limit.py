"""RATE_LIMIT_RPS per client key on /v1/generate* and /v1/proxy/*, through a real gateway and mock LLM, counted
in fixed windows of a clock that stands still unless a test moves it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from guards import Rate
from mockllm import MockLLMServer
from tests.support.clock import fresh_clock
from tests.support.gateway import GatewayThread

Start = Callable[..., GatewayThread]
BODY = {"user": "hi"}


def burst(client: httpx.Client, count: int, *, org: str | None = None,
          forwarded_for: str | None = None) -> list[httpx.Response]:
    headers = {"X-Org-Id": org} if org else {}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return [client.post("/v1/generate", json=BODY, headers=headers) for _ in range(count)]


def statuses(responses: list[httpx.Response]) -> list[int]:
    return [response.status_code for response in responses]


def org() -> str:
    return uuid.uuid4().hex


def test_a_burst_over_the_limit_gets_short_429_json_and_the_provider_is_not_called(
        gateway_with: Start, mock_llm: MockLLMServer) -> None:
    clock = fresh_clock()
    clock.now += 0.25  # a quarter into the second: three quarters left
    gateway = gateway_with(rate_limit_rps=3, clock=clock)
    with httpx.Client(base_url=gateway.url) as client:
        responses = burst(client, 5, org=org())
    assert statuses(responses) == [200, 200, 200, 429, 429]
    assert len(mock_llm.requests) == 3
    refused = responses[3]
    assert refused.headers["content-type"] == "application/json"
    body = refused.json()
    assert body["error"]["code"] == "rate_limited" and body["requestId"] == refused.headers["x-request-id"]
    assert refused.headers["retry-after"] == "1"
    assert (refused.headers["ratelimit-limit"], refused.headers["ratelimit-remaining"],
            refused.headers["ratelimit-reset"]) == ("3", "0", "1")


def test_allowed_responses_carry_the_ratelimit_headers(gateway_with: Start) -> None:
    gateway = gateway_with(rate_limit_rps=3, clock=fresh_clock())
    with httpx.Client(base_url=gateway.url) as client:
        responses = burst(client, 3, org=org())
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0"]
    assert {r.headers["ratelimit-limit"] for r in responses} == {"3"}
    assert {r.headers["ratelimit-reset"] for r in responses} == {"1"}


def test_a_new_window_lets_the_client_in_again(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    clock = fresh_clock()
    start = clock.now  # a window's first instant
    gateway = gateway_with(rate_limit_rps=2, clock=clock)
    with httpx.Client(base_url=gateway.url, headers={"X-Org-Id": org()}) as client:
        assert statuses(burst(client, 3)) == [200, 200, 429]
        clock.now = start + 0.999
        assert statuses(burst(client, 1)) == [429]
        clock.now = start + 1
        assert statuses(burst(client, 3)) == [200, 200, 429]


def test_a_fractional_rate_counts_whole_requests_in_longer_windows(gateway_with: Start) -> None:
    clock = fresh_clock()
    start = clock.now
    gateway = gateway_with(rate_limit_rps=0.5, clock=clock)  # 1 request per 2 s
    with httpx.Client(base_url=gateway.url, headers={"X-Org-Id": org()}) as client:
        allowed, refused = burst(client, 2)
        assert (allowed.status_code, refused.status_code) == (200, 429)
        assert (refused.headers["retry-after"], refused.headers["ratelimit-limit"]) == ("2", "1")
        clock.now = start + 1.5
        late = burst(client, 1)[0]
        assert (late.status_code, late.headers["retry-after"]) == (429, "1")
        clock.now = start + 2
        assert statuses(burst(client, 1)) == [200]


def test_orgs_are_counted_separately(gateway_with: Start) -> None:
    gateway = gateway_with(rate_limit_rps=2, clock=fresh_clock())
    with httpx.Client(base_url=gateway.url) as client:
        acme, globex = burst(client, 3, org=org()), burst(client, 2, org=org())
    assert statuses(acme) == [200, 200, 429]
    assert statuses(globex) == [200, 200]


def test_a_spoofed_forwarded_for_does_not_give_a_new_bucket(gateway_with: Start) -> None:
    # The peer (127.0.0.1) is the client; its bucket is this test's alone in this clock's windows.
    gateway = gateway_with(rate_limit_rps=2, trusted_proxies=(), clock=fresh_clock())
    with httpx.Client(base_url=gateway.url) as client:
        responses = [burst(client, 1, forwarded_for=f"203.0.113.{n}")[0] for n in range(3)]
    assert statuses(responses) == [200, 200, 429]


def test_forwarded_for_from_a_trusted_proxy_gives_each_client_its_bucket(gateway_with: Start) -> None:
    gateway = gateway_with(rate_limit_rps=1, trusted_proxies=("127.0.0.1",), clock=fresh_clock())
    alice, bob = "198.51.100.7", "2001:db8:7::1"
    with httpx.Client(base_url=gateway.url) as client:
        responses = [burst(client, 1, forwarded_for=f"1.1.1.1, {ip}")[0] for ip in (alice, bob, alice)]
    assert statuses(responses) == [200, 200, 429]


def test_the_proxy_routes_are_limited_too(gateway_with: Start) -> None:
    # No GOBE_BASE_URL: an allowed call is answered 403 or 503.
    gateway = gateway_with(rate_limit_rps=1, clock=fresh_clock())
    with httpx.Client(base_url=gateway.url, headers={"X-Org-Id": org()}) as client:
        responses = [client.get("/v1/proxy/files/1") for _ in range(2)]
    assert statuses(responses)[1] == 429


def test_health_metrics_docs_and_preflights_are_never_limited(gateway_with: Start) -> None:
    gateway = gateway_with(rate_limit_rps=1, cors_allowed_origins=("https://app.example",), clock=fresh_clock())
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    with httpx.Client(base_url=gateway.url, headers={"X-Org-Id": org()}) as client:
        free = [client.get(path).status_code for path in ("/v1/health", "/metrics", "/v1/openapi.json") * 3]
        free += [client.options("/v1/generate", headers=preflight).status_code for _ in range(3)]
        counted = statuses(burst(client, 2))
    assert free == [200] * 12
    assert counted == [200, 429]  # the preflights did not use the budget


def test_a_limit_of_zero_turns_the_limit_off(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(rate_limit_rps=0)
    with httpx.Client(base_url=gateway.url) as client:
        responses = burst(client, 8, org=org())
    assert statuses(responses) == [200] * 8
    assert "ratelimit-limit" not in responses[0].headers
    assert len(mock_llm.requests) == 8


@pytest.mark.parametrize(("rps", "count", "period_s"), [
    (3, 3, 1), (0.5, 1, 2), (2.5, 5, 2), (0.3, 3, 10), (1 / 3, 1, 3), (100, 100, 1), (1e-6, 1, 3600),
])
def test_fractional_rates_become_whole_requests_per_whole_seconds(rps: float, count: int, period_s: int) -> None:
    assert Rate.per_second(rps) == Rate(count=count, period_s=period_s)
