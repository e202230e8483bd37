"""The Django HttpServerPort adapter under control: start on an ephemeral port, serve, stop."""

from __future__ import annotations

import socket

import httpx
import pytest

from grompt_gateway.application import GatewayApplication
from grompt_gateway.config import GatewaySettings
from grompt_gateway.server.django_adapter import DjangoHttpServer
from grompt_gateway.v1.api import api

pytestmark = pytest.mark.anyio


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_adapter_starts_serves_health_and_stops_closing_the_port() -> None:
    server = DjangoHttpServer(api=api, app=GatewayApplication(GatewaySettings()), port=0)
    await server.start()
    assert server.port and server.port > 0
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{server.url}/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]
    assert _port_open(server.port)
    await server.stop()
    assert not _port_open(server.port)


async def test_adapter_without_app_refuses_to_start() -> None:
    with pytest.raises(RuntimeError, match="needs an ASGI app"):
        await DjangoHttpServer(api=api).start()


def test_request_context_user_is_the_caller_the_bearer_layer_verified() -> None:
    from django.test import RequestFactory

    from grompt_gateway.server.django_adapter import to_context
    from grompt_gateway.server.http_port import RequestUser
    from guards import CALLER_SCOPE, Caller

    request = RequestFactory().get("/v1/budget")
    request.scope = {"headers": [], CALLER_SCOPE: Caller(id="user-1", org="acme")}  # type: ignore[attr-defined]
    assert to_context(request, body=None, params={}).user == RequestUser(id="user-1", org="acme")
    request.scope = {"headers": []}  # type: ignore[attr-defined]
    assert to_context(request, body=None, params={}).user is None
