"""MAX_BODY_BYTES: 413 payload_too_large before Django reads the body, by Content-Length or by counting."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx

from mockllm import MockLLMServer
from tests.support.gateway import GatewayThread

Start = Callable[..., GatewayThread]


def test_a_declared_length_over_the_limit_is_refused_before_any_body_byte_is_sent(gateway_with: Start) -> None:
    gateway = gateway_with(max_body_bytes=1000)
    request = (b"POST /v1/generate HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
               b"Content-Length: 50000000\r\n\r\n")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(request)  # headers only: the 50 MB never come
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 413 ")
    assert '"code":"payload_too_large"' in answer


def read_response(sock: socket.socket) -> str:
    """One whole response with a Content-Length (the socket's timeout bounds every read)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _recv(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += _recv(sock)
    return (head + b"\r\n\r\n" + body).decode("latin-1")


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("closed before the whole response arrived")
    return chunk


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(gateway_with: Start,
                                                                   mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(max_body_bytes=100_000)
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends Transfer-Encoding: chunked
        nonlocal sent
        for _ in range(2_000):
            sent += 16_384
            yield b" " * 16_384

    response = httpx.post(f"{gateway.url}/v1/generate", content=chunks(),
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert mock_llm.requests == []


def test_a_body_within_the_limit_passes(gateway_with: Start) -> None:
    gateway = gateway_with(max_body_bytes=1000)
    padded = b'{"user": "hi"' + b" " * 900 + b"}"

    def chunks() -> Iterator[bytes]:
        yield padded[:500]
        yield padded[500:]

    for content in (padded, chunks()):
        response = httpx.post(f"{gateway.url}/v1/generate", content=content,
                              headers={"Content-Type": "application/json"})
        assert response.status_code == 200, response.text


def test_the_proxy_route_keeps_its_own_larger_limit(gateway_with: Start) -> None:
    gateway = gateway_with(max_body_bytes=1000, proxy_max_body_bytes=10_000_000, gobe_proxy_allow=("files",))
    response = httpx.post(f"{gateway.url}/v1/proxy/files", content=b"x" * 5000)
    # Past our limit, yet answered by the proxy route itself (no GOBE_BASE_URL here): not 413.
    assert response.json()["error"]["code"] == "provider_not_configured"
    preflight_with_body = httpx.request("OPTIONS", f"{gateway.url}/v1/proxy/files", content=b"x" * 5000)
    assert preflight_with_body.status_code == 413  # OPTIONS goes to Django, which would read it whole
