"""GET /v1/providers, the OpenAPI description, and CORS for the PWA."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.clock import fresh_clock
from tests.support.gateway import GatewayThread


def test_providers_lists_all_three_with_configured_flags(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(openai_api_key="sk-listed-nowhere-123", anthropic_models=("claude-x", "claude-y"))
    response = httpx.get(f"{gateway.url}/v1/providers")
    assert "sk-listed-nowhere-123" not in response.text
    body = response.json()
    assert body["default"] == {"provider": "gemini", "model": "gemini-2.5-flash"}
    rows = {row["id"]: row for row in body["providers"]}
    assert list(rows) == ["openai", "anthropic", "gemini"]
    assert rows["openai"]["configured"] is True
    assert rows["anthropic"]["configured"] is False and rows["gemini"]["configured"] is False
    assert rows["anthropic"]["models"] == ["claude-x", "claude-y"]
    assert "gemini-2.5-flash" in rows["gemini"]["models"]
    assert body["demo"] is False


def test_openapi_describes_every_v1_operation(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway()
    spec = httpx.get(f"{gateway.url}/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"/v1/health", "/v1/providers", "/v1/generate", "/v1/generate/stream"} <= set(paths)
    assert {"get", "post", "put", "patch", "delete"} <= set(paths["/v1/proxy/{path}"])
    generate = paths["/v1/generate"]["post"]
    assert "text/event-stream" in generate["responses"]["200"]["content"]
    assert generate["responses"]["429"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorOut")
    stream = paths["/v1/generate/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert {p["name"] for p in stream["parameters"]} >= {"user", "provider", "model", "topP", "maxTokens", "stop"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["ErrorOut"]["properties"]) == {"error", "requestId"}
    assert set(schemas["OptionsIn"]["properties"]) == {"temperature", "topP", "maxTokens", "stopSequences"}
    docs = httpx.get(f"{gateway.url}/v1/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]


ORIGIN = "https://app.grompt.example"


def test_cors_preflight_is_answered_for_an_allowed_origin(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(cors_allowed_origins=(ORIGIN,), rate_limit_rps=1.0)
    for _ in range(3):  # preflights never count against the rate limit
        response = httpx.options(f"{gateway.url}/v1/generate", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, x-org-id"})
        assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "idempotency-key" in response.headers["access-control-allow-headers"].lower()
    simple = httpx.get(f"{gateway.url}/v1/health", headers={"Origin": ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


def test_errors_raised_before_django_are_readable_by_the_pwa(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(cors_allowed_origins=(ORIGIN,), rate_limit_rps=1.0, clock=fresh_clock())
    statuses = [httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}, headers={"Origin": ORIGIN})
                for _ in range(4)]
    limited = next(r for r in statuses if r.status_code == 429)
    assert limited.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()


def test_cors_ignores_other_origins(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(cors_allowed_origins=(ORIGIN,))
    response = httpx.get(f"{gateway.url}/v1/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(f"{gateway.url}/v1/generate", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_no_cors_by_default(start_gateway: Callable[..., GatewayThread]) -> None:
    response = httpx.get(f"{start_gateway().url}/v1/health", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
