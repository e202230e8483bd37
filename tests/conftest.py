"""Shared fixtures: the anyio backend for ``async def`` tests, and live gateways."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockllm import MockLLMServer, start_mock
from tests.support.gateway import GatewayThread, settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def start_gateway() -> Iterator[Callable[..., GatewayThread]]:
    """Start real gateways (uvicorn, ephemeral port) with settings overrides; all stopped at the end."""
    running: list[GatewayThread] = []

    def start(*, clock: Callable[[], float] = time.time, **overrides: Any) -> GatewayThread:
        gateway = GatewayThread(settings(**overrides), clock=clock).start()
        running.append(gateway)
        return gateway

    yield start
    for gateway in running:
        gateway.stop()


@pytest.fixture(scope="session")
def mock_llm_server() -> Iterator[MockLLMServer]:
    """One mock LLM upstream (OpenAI, Anthropic and Gemini wire protocols) for the whole session."""
    with start_mock() as mock:
        yield mock


@pytest.fixture
def mock_llm(mock_llm_server: MockLLMServer) -> MockLLMServer:
    """The session's mock LLM, with its recordings and scripted scenarios cleared."""
    mock_llm_server.reset()
    return mock_llm_server


def providers_on(mock: MockLLMServer) -> dict[str, Any]:
    """Settings overrides pointing all three providers at ``mock``."""
    return {
        "openai_api_key": "test-openai-key", "openai_base_url": mock.openai_base_url,
        "anthropic_api_key": "test-anthropic-key", "anthropic_base_url": mock.anthropic_base_url,
        "gemini_api_key": "test-gemini-key", "gemini_base_url": mock.gemini_base_url,
    }
