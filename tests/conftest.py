"""Shared fixtures: the anyio backend for ``async def`` tests, and live gateways."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.gateway import GatewayThread, settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def start_gateway() -> Iterator[Callable[..., GatewayThread]]:
    """Start real gateways (uvicorn, ephemeral port) with settings overrides; all stopped at the end."""
    running: list[GatewayThread] = []

    def start(**overrides: Any) -> GatewayThread:
        gateway = GatewayThread(settings(**overrides)).start()
        running.append(gateway)
        return gateway

    yield start
    for gateway in running:
        gateway.stop()
