"""A fake GoBE on loopback (one per session, reset per test) and gateways pointed at it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest

from mockllm import ServerThread
from tests.proxy.echo_gobe import EchoGoBE
from tests.support.gateway import GatewayThread, settings

ALLOW = ("files", "auth/login", "status", "slow", "stall", "cut", "download", "huge", "html", "silence")


@pytest.fixture(scope="session")
def gobe_server() -> Iterator[tuple[EchoGoBE, ServerThread]]:
    gobe = EchoGoBE()
    with ServerThread(gobe, graceful_shutdown_s=0.2) as server:
        yield gobe, server


@pytest.fixture
def gobe(gobe_server: tuple[EchoGoBE, ServerThread]) -> EchoGoBE:
    gobe_server[0].reset()
    return gobe_server[0]


@pytest.fixture
def gobe_url(gobe_server: tuple[EchoGoBE, ServerThread]) -> str:
    return gobe_server[1].url


@pytest.fixture(scope="session")
def shared_gateway(gobe_server: tuple[EchoGoBE, ServerThread]) -> Iterator[GatewayThread]:
    """One gateway for the tests that use the default proxy settings (GoBE under a base path)."""
    with GatewayThread(settings(gobe_base_url=gobe_server[1].url + "/api", gobe_proxy_allow=ALLOW)) as gateway:
        yield gateway


@pytest.fixture
def gateway(shared_gateway: GatewayThread, gobe: EchoGoBE) -> GatewayThread:
    return shared_gateway


@pytest.fixture
def gateway_with(start_gateway: Callable[..., GatewayThread], gobe: EchoGoBE,
                 gobe_url: str) -> Callable[..., GatewayThread]:
    """Start a gateway in front of the fake GoBE with some settings changed."""

    def start(**overrides: object) -> GatewayThread:
        return start_gateway(**{"gobe_base_url": gobe_url, "gobe_proxy_allow": ALLOW, **overrides})

    return start


@pytest.fixture
def access_line(caplog: pytest.LogCaptureFixture) -> Callable[[str], logging.LogRecord]:
    """Wait (bounded) for the access line of a request path; the access layer writes it after the response."""
    caplog.set_level(logging.INFO, logger="grompt_gateway.access")

    def find(path: str) -> logging.LogRecord:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            records = [r for r in caplog.records if getattr(r, "path", None) == path]
            if records:
                return records[0]
            time.sleep(0.01)
        raise AssertionError(f"no access line for {path}")

    return find
