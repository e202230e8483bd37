"""A gateway whose three providers are backed by the session's mock LLM upstream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread

PROVIDERS = ("openai", "anthropic", "gemini")


@pytest.fixture
def gateway_with(
    start_gateway: Callable[..., GatewayThread], mock_llm: MockLLMServer
) -> Callable[..., GatewayThread]:
    def start(**overrides: Any) -> GatewayThread:
        return start_gateway(**{**providers_on(mock_llm), **overrides})

    return start


@pytest.fixture
def gateway(gateway_with: Callable[..., GatewayThread]) -> GatewayThread:
    return gateway_with()
