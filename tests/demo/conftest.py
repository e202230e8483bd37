"""Demo-mode gateways, and the running mock LLM behind one (its recorder sees every upstream call)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from grompt_gateway.demo import DemoUpstream
from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread

PROVIDERS = ("openai", "anthropic", "gemini")


def demo_mock(gateway: GatewayThread) -> MockLLMServer:
    """The mock LLM that ``gateway`` started for demo mode."""
    handle = gateway.app.services.demo
    assert isinstance(handle, DemoUpstream), "the gateway is not in demo mode"
    return handle.mock


@pytest.fixture
def demo_gateway(start_gateway: Callable[..., GatewayThread]) -> GatewayThread:
    """A gateway in demo mode with no chunk delay (fast tests)."""
    return start_gateway(demo=True, demo_chunk_delay_ms=0)
