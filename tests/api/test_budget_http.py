"""Token budgets end to end (gateway under uvicorn, real SDKs, the mock LLM counting what reaches it):
the completion cap on the wire, exact accounting, refusals before any upstream call, no overshoot under
concurrency, isolation per client key, and settling after failures, disconnects and replays."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from grompt_gateway.observability.log_json import JsonFormatter
from grompt_gateway.wiring import build_budget
from guards.budget_store import BudgetStore, LocalBudgetStore, Reservation
from guards.token_estimate import prompt_tokens, text_tokens
from mockllm import MockLLMServer
from tests.api.conftest import PROVIDERS
from tests.support.clock import Clock
from tests.support.gateway import GatewayThread
from tests.support.sse import read_sse

HI_RESERVED = prompt_tokens(user="hi", system=None)  # + the completion cap


def budgeted(gateway_with: Callable[..., GatewayThread], *, clock: Clock | None = None,
             store: BudgetStore | None = None, **overrides: Any) -> GatewayThread:
    """A gateway on the mock whose default route is OpenAI, X-Org-Id believed from loopback, and budgets
    on a clock that stands still (a real minute could end mid-test)."""
    clock = clock or Clock()
    gateway = gateway_with(**{"default_provider": "openai", "default_model": "gpt-4o-mini",
                              "trusted_proxies": ("127.0.0.1",), **overrides}, clock=clock)
    if store is not None:
        services = gateway.app.services
        services.budget = build_budget(gateway.settings, cache=services.cache, clock=clock, store=store)
    return gateway


def org() -> dict[str, str]:
    return {"X-Org-Id": uuid.uuid4().hex}


def windows(gateway: GatewayThread, headers: dict[str, str]) -> dict[str, dict[str, int]]:
    response = httpx.get(f"{gateway.url}/v1/budget", headers=headers, timeout=10)
    assert response.status_code == 200
    return {row["window"]: row for row in response.json()["windows"]}


def test_without_budgets_there_are_no_windows_and_no_cap_is_added(gateway_with: Callable[..., GatewayThread],
                                                                   mock_llm: MockLLMServer) -> None:
    gateway = budgeted(gateway_with)
    assert httpx.get(f"{gateway.url}/v1/budget").json() == {"windows": []}
    assert httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}).status_code == 200
    assert "max_completion_tokens" not in mock_llm.requests[0].body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_with_budgets_every_provider_call_carries_the_completion_cap(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer, provider: str) -> None:
    gateway = budgeted(gateway_with, token_budget_per_day=100_000, max_output_tokens=777)
    assert httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi", "provider": provider}).status_code == 200
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params={"user": "hi", "provider": provider}) as r:
        r.read()
    for request in mock_llm.requests:
        body = request.body
        sent = {"openai": body.get("max_completion_tokens"), "anthropic": body.get("max_tokens"),
                "gemini": body.get("generationConfig", {}).get("maxOutputTokens")}[provider]
        assert sent == 777
    assert len(mock_llm.requests) == 2


def test_sequential_calls_are_charged_their_usage_until_one_is_refused(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    gateway, headers = budgeted(gateway_with, token_budget_per_minute=300, token_budget_per_day=10_000), org()
    body = {"user": "hi", "options": {"maxTokens": 40}}
    charged, statuses = 0, []
    for _ in range(10):
        response = httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers, timeout=10)
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
        charged += response.json()["usage"]["total"]
        assert windows(gateway, headers)["minute"]["used"] == charged
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    assert response.json()["error"]["code"] == "budget_exceeded"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert len(mock_llm.requests) == len(statuses) - 1  # refused before any upstream call
    assert 300 - charged < HI_RESERVED + 40 <= 300 - charged + HI_RESERVED + 40
    state = windows(gateway, headers)
    assert (state["minute"]["used"], state["minute"]["reserved"]) == (charged, 0)
    assert (state["day"]["limit"], state["day"]["used"]) == (10_000, charged)


def test_concurrent_calls_never_reserve_more_than_the_budget(gateway_with: Callable[..., GatewayThread],
                                                             mock_llm: MockLLMServer) -> None:
    reserved_each = HI_RESERVED + 50
    gateway, headers = budgeted(gateway_with, token_budget_per_minute=5 * reserved_each + 10), org()
    mock_llm.enqueue("delay_ms=3000", provider="openai", times=20)  # admitted calls stay in flight
    body = {"user": "hi", "options": {"maxTokens": 50}}
    with httpx.Client(headers=headers, timeout=20) as client, ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda _: client.post(f"{gateway.url}/v1/generate", json=body).status_code,
                                 range(12)))
    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert len(mock_llm.requests) == 5


def test_orgs_have_budgets_of_their_own_and_overrides(gateway_with: Callable[..., GatewayThread],
                                                      mock_llm: MockLLMServer) -> None:
    gateway = budgeted(gateway_with, token_budget_per_minute=HI_RESERVED + 20,
                       token_budget_overrides="org:acme=off/100000,org:blocked=0/0")
    body = {"user": "hi", "options": {"maxTokens": 20}}
    one, two = org(), org()
    assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers=one).status_code == 200
    assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers=one).status_code == 429
    assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers=two).status_code == 200
    for _ in range(3):
        assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers={"X-Org-Id": "acme"}).status_code == 200
    assert list(windows(gateway, {"X-Org-Id": "acme"})) == ["day"]
    blocked = httpx.post(f"{gateway.url}/v1/generate", json=body, headers={"X-Org-Id": "blocked"})
    assert blocked.status_code == 400 and "per-minute token budget (0)" in blocked.json()["error"]["message"]
    assert len(mock_llm.requests) == 5


def test_a_call_that_could_never_fit_is_invalid_and_names_the_budget(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    gateway = budgeted(gateway_with, token_budget_per_day=5_000)  # under MAX_OUTPUT_TOKENS
    response = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": f"this call may use up to {HI_RESERVED + 16_384} tokens, more than the per-day token "
                   "budget (5000)"}
    assert mock_llm.requests == []


def test_failed_calls_cost_nothing(gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    gateway, headers = budgeted(gateway_with, token_budget_per_minute=1000), org()
    refused = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi [mock status=400]",
                                                             "options": {"maxTokens": 9}}, headers=headers)
    assert refused.status_code == 400
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", headers=headers,
                      params={"user": "hi [mock status=404]", "maxTokens": "9"}) as stream:
        assert stream.status_code == 400
    assert len(mock_llm.requests) == 2
    assert windows(gateway, headers)["minute"] == {"window": "minute", "limit": 1000, "used": 0, "reserved": 0,
                                                   "resetS": windows(gateway, headers)["minute"]["resetS"]}


def test_an_idempotent_replay_costs_nothing(gateway_with: Callable[..., GatewayThread],
                                            mock_llm: MockLLMServer) -> None:
    gateway = budgeted(gateway_with, token_budget_per_day=10_000)
    headers = {**org(), "Idempotency-Key": uuid.uuid4().hex}
    body = {"user": "hi", "options": {"maxTokens": 30}}
    first = httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers)
    replay = httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers)
    assert replay.headers["idempotent-replayed"] == "true"
    assert windows(gateway, headers)["day"]["used"] == first.json()["usage"]["total"]
    assert len(mock_llm.requests) == 1


class SettleSignal(LocalBudgetStore):
    """The in-memory store, telling a test the moment a reservation settles."""

    def __init__(self) -> None:
        super().__init__()
        self.settled = threading.Event()
        self.costs: list[int] = []

    def settle(self, reservation: Reservation, *, cost: int, now: float) -> None:
        super().settle(reservation, cost=cost, now=now)
        self.costs.append(cost)
        self.settled.set()


def test_a_client_that_leaves_mid_stream_is_charged_an_estimate_at_once(
        gateway_with: Callable[..., GatewayThread], mock_llm: MockLLMServer) -> None:
    store = SettleSignal()
    gateway = budgeted(gateway_with, store=store, token_budget_per_minute=5_000)
    request = (b"GET /v1/generate/stream?user=hi%20%5Bmock%20chunks%3D100%20gap_ms%3D50%5D&maxTokens=100 "
               b"HTTP/1.1\r\nHost: x\r\nX-Org-Id: leaver\r\n\r\n")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b'"type":"chunk"') < 3:
            received += sock.recv(65536)
    assert mock_llm.wait_for_disconnect(timeout_s=3)
    assert store.settled.wait(timeout=1.0)  # settled as the stream is torn down, not by a timer
    [cost] = store.costs
    reserved = prompt_tokens(user="hi [mock chunks=100 gap_ms=50]", system=None) + 100
    assert 3 <= cost < reserved  # prompt + the words produced, estimated, never above the reservation
    state = windows(gateway, {"X-Org-Id": "leaver"})["minute"]
    assert (state["used"], state["reserved"]) == (cost, 0)


def test_a_new_minute_lets_a_client_spend_again(gateway_with: Callable[..., GatewayThread]) -> None:
    clock = Clock()
    gateway, headers = budgeted(gateway_with, clock=clock, token_budget_per_minute=HI_RESERVED + 10), org()
    body = {"user": "hi", "options": {"maxTokens": 10}}
    assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers).status_code == 200
    refused = httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "50"
    clock.now += 50
    assert windows(gateway, headers)["minute"]["used"] == 0
    assert httpx.post(f"{gateway.url}/v1/generate", json=body, headers=headers).status_code == 200


def test_the_budget_route_is_documented_and_never_rate_limited(gateway_with: Callable[..., GatewayThread]) -> None:
    gateway = budgeted(gateway_with, rate_limit_rps=1, token_budget_per_minute=1000)
    statuses = {httpx.get(f"{gateway.url}/v1/budget").status_code for _ in range(5)}
    assert statuses == {200}
    spec = httpx.get(f"{gateway.url}/v1/openapi.json").json()
    ok = spec["paths"]["/v1/budget"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    window = spec["components"]["schemas"]["BudgetWindowOut"]
    assert ok["$ref"].endswith("/BudgetOut")
    assert set(window["properties"]) == {"window", "limit", "used", "reserved", "resetS"}


def _metric(gateway: GatewayThread, name: str, **labels: str) -> float:
    total = 0.0
    for line in httpx.get(f"{gateway.url}/metrics").text.splitlines():
        if line.startswith(name + "{"):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
    return total


def _access_lines(caplog: pytest.LogCaptureFixture, *, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while len(lines := [r for r in caplog.records if getattr(r, "route", "").startswith("/v1/generate")]) < count:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return [json.loads(JsonFormatter().format(record)) for record in lines]


def test_charges_refusals_and_estimates_reach_the_access_line_and_metrics(
        gateway_with: Callable[..., GatewayThread], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="grompt_gateway.access")
    gateway, headers = budgeted(gateway_with, token_budget_per_minute=HI_RESERVED + 60), org()
    labels = {"provider": "openai", "model": "other"}
    rejected = _metric(gateway, "grompt_gateway_budget_rejections_total", window="minute")
    estimated = _metric(gateway, "grompt_gateway_tokens_estimated_total", type="completion", **labels)
    ok = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi", "options": {"maxTokens": 10}}, headers=headers)
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", headers=headers,
                      params={"user": "hi [mock reset_after=3]", "maxTokens": "20", "model": "m"}) as cut:
        produced = read_sse(cut).text
    refused = httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi", "options": {"maxTokens": 60}},
                         headers=headers)
    assert (ok.status_code, refused.status_code) == (200, 429)
    first, stream, last = _access_lines(caplog, count=3)
    assert (first["budget_reserved"], first["budget_charged"]) == (HI_RESERVED + 10, ok.json()["usage"]["total"])
    assert "usage_estimated" not in first
    assert stream["usage_estimated"] is True and 0 < stream["budget_charged"] == stream["total_tokens"]
    assert stream["completion_tokens"] == text_tokens(produced) > 0  # three chunks, estimated from their text
    assert (last["status"], last["budget_rejected"]) == (429, "minute")
    assert _metric(gateway, "grompt_gateway_budget_rejections_total", window="minute") == rejected + 1
    assert _metric(gateway, "grompt_gateway_tokens_estimated_total", type="completion",
                   **labels) == estimated + text_tokens(produced)
