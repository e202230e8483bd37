"""Real components for the guards: a redis-server on a free loopback port, gateways on the mock LLM."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread
from tests.support.process import free_port

REDIS_SERVER = shutil.which("redis-server")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server (no persistence) for the session; skipped when the binary is absent."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the session's Redis, emptied before each test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def _wait_for_redis(url: str, process: subprocess.Popen[bytes], *, timeout_s: float = 10.0) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise TimeoutError(f"redis-server not answering on {url}")
    finally:
        client.close()


@pytest.fixture
def gateway_with(start_gateway: Callable[..., GatewayThread],
                 mock_llm: MockLLMServer) -> Callable[..., GatewayThread]:
    """Start a gateway whose providers all answer from the session's mock LLM (default: openai)."""

    def start(**overrides: Any) -> GatewayThread:
        # The tests are the trusted edge (127.0.0.1), so an X-Org-Id gives each test its own bucket.
        defaults = {**providers_on(mock_llm), "default_provider": "openai", "default_model": "gpt-4o-mini",
                    "openai_models": ("gpt-4o-mini",), "trusted_proxies": ("127.0.0.1",)}
        gateway = start_gateway(**{**defaults, **overrides})
        # Build the provider clients now (the SDK imports take seconds once per process), so the
        # first counted request is as quick as the rest and bursts fit in one window.
        httpx.get(f"{gateway.url}/v1/providers", timeout=30).raise_for_status()
        return gateway

    return start


@pytest.fixture
def free_port_url() -> str:
    """A Redis URL where nothing listens: what the gateway sees while Redis is down."""
    return f"redis://127.0.0.1:{free_port()}/0"
