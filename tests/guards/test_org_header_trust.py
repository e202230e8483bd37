"""X-Org-Id picks the bucket only from a peer in TRUSTED_PROXIES (docs/api.md § Headers): rotating it from anywhere
else buys nothing, for the rate limit and the idempotency scope alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from mockllm import MockLLMServer
from tests.support.clock import fresh_clock
from tests.support.gateway import GatewayThread

Start = Callable[..., GatewayThread]
UNTRUSTED = ("192.0.2.0/24",)  # the tests' peer, 127.0.0.1, is not in it


def rotating_burst(gateway: GatewayThread, count: int) -> list[int]:
    """``count`` concurrent requests, each with an invented X-Org-Id."""

    def one(_: int) -> int:
        headers = {"X-Org-Id": uuid.uuid4().hex}
        return httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}, headers=headers, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_rotating_org_ids_from_an_untrusted_peer_are_limited_as_one_client(gateway_with: Start,
                                                                          mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(rate_limit_rps=3, trusted_proxies=UNTRUSTED, clock=fresh_clock())
    codes = rotating_burst(gateway, 20)
    assert sorted(codes) == [200] * 3 + [429] * 17
    assert len(mock_llm.requests) == 3


def test_from_a_trusted_edge_the_org_id_picks_the_bucket(gateway_with: Start) -> None:
    gateway = gateway_with(rate_limit_rps=3, trusted_proxies=("127.0.0.1",), clock=fresh_clock())
    assert rotating_burst(gateway, 20) == [200] * 20
    same_org = [httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}, headers={"X-Org-Id": "acme"},
                           timeout=10).status_code for _ in range(4)]
    assert same_org == [200, 200, 200, 429]


def test_an_untrusted_org_id_does_not_scope_idempotency(gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(trusted_proxies=UNTRUSTED)
    key = uuid.uuid4().hex

    def post(org: str) -> httpx.Response:
        return httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}, timeout=10,
                          headers={"Idempotency-Key": key, "X-Org-Id": org})

    first, repeat = post("acme"), post("globex")
    assert repeat.headers["idempotent-replayed"] == "true"  # same client (the IP), same key: one call
    assert repeat.json() == first.json()
    assert len(mock_llm.requests) == 1
