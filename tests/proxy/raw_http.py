"""One HTTP/1.1 request over a plain socket, target sent byte for byte: httpx and browsers would
normalise ``..`` or reject control characters before the gateway ever saw them."""

from __future__ import annotations

import socket
import time

import httpx


def raw_request(url: str, target: bytes, *, method: bytes = b"GET", timeout_s: float = 5.0) -> tuple[int, bytes]:
    """Send ``method target`` with ``Connection: close``; return the status and the raw body."""
    parsed = httpx.URL(url)
    assert parsed.port is not None
    with socket.create_connection((parsed.host, parsed.port), timeout=timeout_s) as sock:
        sock.sendall(method + b" " + target + b" HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        data = b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
