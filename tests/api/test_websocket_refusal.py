"""``Upgrade: websocket`` on any route gets an ordinary 4xx (a refused handshake), never a 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.gateway import GatewayThread, settings

ROUTES = [b"/", b"/v1/health", b"/v1/generate", b"/v1/generate/stream?user=hi", b"/v1/proxy/files",
          b"/metrics", b"/v1/nowhere"]


def _handshake(port: int, target: bytes, *, key: bytes = b"dGhlIHNhbXBsZSBub25jZQ==") -> bytes:
    request = (b"GET " + target + b" HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayThread]:
    with GatewayThread(settings()) as running:
        yield running


@pytest.mark.parametrize("target", ROUTES)
def test_a_websocket_handshake_is_refused_with_403(gateway: GatewayThread, target: bytes) -> None:
    status = int(_handshake(gateway.port, target).split(b" ", 2)[1])
    assert status == 403


def test_a_malformed_upgrade_is_a_4xx(gateway: GatewayThread) -> None:
    status = int(_handshake(gateway.port, b"/v1/health", key=b"not-a-key").split(b" ", 2)[1])
    assert 400 <= status < 500
