"""One mock upstream (mockllm, on 127.0.0.1) per session, reset before each test; the real SDKs reach it
through a ``ProviderRegistry`` pointed at its base URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from llm.multi import MultiAIWrapper
from llm.registry import ProviderRegistry
from llm.types import PROVIDER_IDS, ProviderId
from mockllm import MockLLMServer
from tests.llm.wiring import MODELS, FailureLog, FallbackLog, make_multi, make_registry


@pytest.fixture
def mock(mock_llm: MockLLMServer) -> MockLLMServer:
    """The session's mock upstream (tests/conftest.py), reset for this test."""
    return mock_llm


@pytest.fixture
async def registry(mock: MockLLMServer) -> AsyncIterator[ProviderRegistry]:
    reg = make_registry(mock)
    yield reg
    await reg.aclose()


@pytest.fixture
def failures() -> FailureLog:
    return FailureLog()


@pytest.fixture
def multi(registry: ProviderRegistry, failures: FailureLog) -> MultiAIWrapper:
    return make_multi(registry, failures=failures)


@pytest.fixture
def fallbacks() -> FallbackLog:
    return FallbackLog()


@pytest.fixture(params=PROVIDER_IDS)
def pid(request: pytest.FixtureRequest) -> ProviderId:
    provider: ProviderId = request.param
    return provider


@pytest.fixture
def model(pid: ProviderId) -> str:
    return MODELS[pid][0]
