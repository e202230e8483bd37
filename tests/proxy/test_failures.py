"""GoBE down, slow, reset or breaking mid-answer; the proxy not configured; the client leaving."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.conftest import ALLOW
from tests.proxy.echo_gobe import EchoGoBE, ResetServer
from tests.support.gateway import GatewayThread
from tests.support.process import free_port


def _error(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/json"
    assert response.json()["requestId"] == response.headers["x-request-id"]
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_gobe_down_is_502_upstream_error(start_gateway: Callable[..., GatewayThread], method: str) -> None:
    gateway = start_gateway(gobe_base_url=f"http://127.0.0.1:{free_port()}", gobe_proxy_allow=ALLOW)
    response = httpx.request(method, f"{gateway.url}/v1/proxy/files", content=b"x" * 10)
    assert _error(response) == (502, "upstream_error")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_gobe_resetting_the_connection_is_502_upstream_error(start_gateway: Callable[..., GatewayThread],
                                                            method: str) -> None:
    with ResetServer() as gobe:
        gateway = start_gateway(gobe_base_url=gobe.url, gobe_proxy_allow=ALLOW)
        response = httpx.request(method, f"{gateway.url}/v1/proxy/files", content=b"x" * 10)
    assert _error(response) == (502, "upstream_error")
    assert gobe.accepted == 1  # not retried: the request may have reached GoBE


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_gobe_slower_than_the_read_timeout_is_504(gateway_with: Callable[..., GatewayThread], method: str) -> None:
    gateway = gateway_with(proxy_read_timeout_ms=200)
    response = httpx.request(method, f"{gateway.url}/v1/proxy/slow/3", timeout=5)
    assert _error(response) == (504, "timeout")


def test_gobe_within_the_read_timeout_answers(gateway_with: Callable[..., GatewayThread]) -> None:
    gateway = gateway_with(proxy_read_timeout_ms=2000)
    assert httpx.get(f"{gateway.url}/v1/proxy/slow/0.1", timeout=5).json() == {"gobe": "slow"}


def test_proxy_without_gobe_base_url_is_503_not_configured(start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(gobe_proxy_allow=ALLOW)
    assert _error(httpx.get(f"{gateway.url}/v1/proxy/files")) == (503, "provider_not_configured")


def test_gobe_stalling_mid_body_cuts_the_client_connection_and_logs_why(
    gateway_with: Callable[..., GatewayThread], access_line: Callable[[str], logging.LogRecord]
) -> None:
    gateway = gateway_with(proxy_read_timeout_ms=200)
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/stall/3", timeout=5) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()  # 10 of 100 promised bytes, then the connection closes
    assert access_line("/v1/proxy/stall/3").upstream_error == "ReadTimeout"  # type: ignore[attr-defined]


def test_gobe_breaking_mid_body_cuts_the_client_connection(gateway: GatewayThread) -> None:
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/cut", timeout=5) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()


def test_client_leaving_mid_download_stops_the_gobe_download(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/download/{10**11}", timeout=5) as response:
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 1_000_000:
                break
    deadline = time.monotonic() + 5
    while gobe.downloads_cut == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert gobe.downloads_cut == 1

