"""Claims of SECURITY.md that no other test held: CORS never allows credentials, and the prompt and output
caps are refused before any provider call."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread

ORIGIN = "https://app.grompt.example"


def test_cors_never_allows_credentials(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(cors_allowed_origins=(ORIGIN,))
    preflight = httpx.options(f"{gateway.url}/v1/generate", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    simple = httpx.get(f"{gateway.url}/v1/health", headers={"Origin": ORIGIN, "Cookie": "session=1"})
    for response in (preflight, simple):
        assert response.headers["access-control-allow-origin"] == ORIGIN  # an exact origin, never "*"
        assert "access-control-allow-credentials" not in response.headers
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_prompt_and_output_caps_are_enforced(start_gateway: Callable[..., GatewayThread],
                                             mock_llm: MockLLMServer) -> None:
    gateway = start_gateway(**providers_on(mock_llm), max_prompt_chars=10, max_output_tokens=5)
    url = f"{gateway.url}/v1/generate"
    long_prompt = httpx.post(url, json={"provider": "openai", "user": "x" * 6, "system": "y" * 5})
    many_tokens = httpx.post(url, json={"provider": "openai", "user": "hi", "options": {"maxTokens": 6}})
    for response, why in ((long_prompt, "prompt longer than 10 characters"), (many_tokens, "at most 5")):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_request"
        assert why in response.json()["error"]["message"]
    assert httpx.post(url, json={"provider": "openai", "user": "x" * 5, "system": "y" * 5,
                                 "options": {"maxTokens": 5}}).status_code == 200
    assert len(mock_llm.requests) == 1
