"""Requests reach GoBE as sent (method, path, query, body), and GoBE's answers come back as sent,
with the documented header policy both ways."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.echo_gobe import EchoGoBE, pattern
from tests.support.gateway import GatewayThread

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
BINARY = bytes(range(256)) * 1024 + os.urandom(4096)  # every byte value, not valid UTF-8


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("sub_path", "query"), [
    ("files", ""),
    ("files/", "a=1"),
    ("files/albums/2024/photo.raw", "x=1&x=2&q=a%20b%2Bc&empty=&flag"),
    ("auth/login/sso/callback", "code=%E2%9C%93&state=s%26t"),
])
def test_every_method_round_trips_path_query_and_binary_body(
    gateway: GatewayThread, gobe: EchoGoBE, method: str, sub_path: str, query: str
) -> None:
    url = f"{gateway.url}/v1/proxy/{sub_path}" + (f"?{query}" if query else "")
    response = httpx.request(method, url, content=BINARY, headers={"Content-Type": "application/octet-stream"})

    assert response.status_code == 200
    echo = response.json()
    assert echo == {"method": method, "path": f"/api/{sub_path}", "query": query, "bytes": len(BINARY),
                    "sha256": hashlib.sha256(BINARY).hexdigest()}
    assert [(s.method, s.query) for s in gobe.seen] == [(method, query)]


@pytest.mark.parametrize("method", METHODS)
def test_a_request_without_body_reaches_gobe_without_one(gateway: GatewayThread, gobe: EchoGoBE,
                                                          method: str) -> None:
    assert httpx.request(method, f"{gateway.url}/v1/proxy/files/x").json()["bytes"] == 0
    assert "transfer-encoding" not in gobe.seen[0].header_names()


def test_a_download_comes_back_byte_for_byte(gateway: GatewayThread) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/download/3000001")
    assert response.status_code == 200
    assert response.headers["content-length"] == "3000001"
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(pattern(3_000_001)).digest()


def test_forwarded_headers_reach_gobe_unchanged(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    sent = {
        "authorization": "Bearer user-token", "content-type": "application/json", "accept": "application/json",
        "accept-language": "pt-BR", "if-none-match": '"v1"', "if-match": '"v0"', "range": "bytes=0-99",
        "x-request-id": "pwa-req-1", "accept-encoding": "gzip",
    }
    httpx.post(f"{gateway.url}/v1/proxy/files", content=b"{}", headers=sent)
    seen = gobe.seen[0]
    assert {name: seen.header(name) for name in sent} == sent


def test_authorization_reaches_gobe_untouched_when_the_gateway_checks_tokens(
        gateway_with: Callable[..., GatewayThread], gobe: EchoGoBE) -> None:
    """GoBE checks its own routes: the gateway verifies tokens on its paid routes only."""
    gateway = gateway_with(auth_jwt_secret="a-secret-of-at-least-32-bytes-long!", auth_required=True)
    response = httpx.get(f"{gateway.url}/v1/proxy/files", headers={"Authorization": "Bearer gobe-opaque-token"})
    assert response.status_code == 200
    assert gobe.seen[0].header("authorization") == "Bearer gobe-opaque-token"
    assert httpx.post(f"{gateway.url}/v1/generate", json={"user": "hi"}).status_code == 401


def test_x_org_id_reaches_gobe_only_from_a_trusted_proxy(gateway_with: Callable[..., GatewayThread],
                                                         gobe: EchoGoBE) -> None:
    untrusted = gateway_with(trusted_proxies=("192.0.2.0/24",))
    httpx.get(f"{untrusted.url}/v1/proxy/files", headers={"X-Org-Id": "org-7"})
    trusted = gateway_with(trusted_proxies=("127.0.0.1",))
    httpx.get(f"{trusted.url}/v1/proxy/files", headers={"X-Org-Id": "org-7"})
    assert [seen.header("x-org-id") for seen in gobe.seen] == [None, "org-7"]


def test_hop_by_hop_host_cookie_and_internal_headers_are_not_forwarded(gateway: GatewayThread,
                                                                         gobe: EchoGoBE) -> None:
    stripped = {
        "cookie": "session=secret", "connection": "keep-alive, x-hop", "x-hop": "1", "keep-alive": "timeout=5",
        "te": "trailers", "proxy-authorization": "Basic abc", "forwarded": "for=6.6.6.6",
        "x-forwarded-host": "evil.example", "idempotency-key": "k1", "x-grompt-internal": "1",
        "last-event-id": "x:1", "x-custom": "1", "user-agent": "pwa/1.0",
    }
    httpx.post(f"{gateway.url}/v1/proxy/files", content=b"x", headers=stripped)
    seen = gobe.seen[0]
    assert not (seen.header_names() & set(stripped) - {"connection", "user-agent"})
    assert seen.header("host") == httpx.URL(gateway.settings.gobe_base_url or "").netloc.decode()
    assert seen.header("connection") == "keep-alive"  # the gateway's own pooled connection
    assert seen.header("user-agent") == "grompt-gateway"


def test_headers_named_in_connection_are_dropped_even_when_otherwise_forwarded(gateway: GatewayThread,
                                                                               gobe: EchoGoBE) -> None:
    request = (b"GET /v1/proxy/files HTTP/1.1\r\nHost: gw\r\nConnection: Authorization, X-Org-Id\r\n"
               b"Connection: close, ACCEPT-language ,range\r\nAuthorization: Bearer hop\r\nX-Org-Id: org-hop\r\n"
               b"Accept-Language: fr\r\nRange: bytes=0-1\r\nAccept: application/json\r\n\r\n")
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    names = gobe.seen[0].header_names()
    assert not {"authorization", "x-org-id", "accept-language", "range"} & names
    assert gobe.seen[0].header("accept") == "application/json"


def test_headers_gobe_names_in_connection_are_dropped_on_the_way_back(gateway: GatewayThread) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/files/hop-by-hop")
    assert "x-gobe-hop" not in response.headers and "etag" not in response.headers
    assert response.headers["x-gobe-trace"] == "t-1"


def test_x_forwarded_for_and_proto_are_set_and_client_claims_ignored(gateway: GatewayThread,
                                                                     gobe: EchoGoBE) -> None:
    httpx.get(f"{gateway.url}/v1/proxy/files",
              headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"})
    assert gobe.seen[0].header("x-forwarded-for") == "127.0.0.1"
    assert gobe.seen[0].header("x-forwarded-proto") == "http"


def test_a_trusted_proxy_extends_the_forwarded_chain(gateway_with: Callable[..., GatewayThread],
                                                     gobe: EchoGoBE) -> None:
    gateway = gateway_with(trusted_proxies=("127.0.0.0/8",))
    httpx.get(f"{gateway.url}/v1/proxy/files",
              headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert gobe.seen[0].header("x-forwarded-for") == "203.0.113.9, 127.0.0.1"
    assert gobe.seen[0].header("x-forwarded-proto") == "https"


def test_request_id_is_generated_when_absent_and_forwarded(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/files")
    generated = response.headers["x-request-id"]
    assert len(generated) == 32
    assert gobe.seen[0].header("x-request-id") == generated


def test_response_headers_drop_hop_by_hop_cors_and_cookies_and_keep_the_rest(gateway: GatewayThread) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/files", headers={"X-Request-Id": "pwa-2"})
    names = [name.decode().lower() for name, _ in response.headers.raw]
    assert response.headers["etag"] == '"v1"'
    assert response.headers["x-gobe-trace"] == "t-1"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers.get_list("x-request-id") == ["pwa-2"]  # ours, not GoBE's
    assert names.count("date") == 1 and names.count("server") == 1
    assert not {"set-cookie", "keep-alive", "access-control-allow-origin"} & set(names)


def test_proxied_answers_carry_the_gateways_cors_policy_only(gateway_with: Callable[..., GatewayThread]) -> None:
    gateway = gateway_with(cors_allowed_origins=("https://pwa.example",))
    response = httpx.get(f"{gateway.url}/v1/proxy/files", headers={"Origin": "https://pwa.example"})
    assert response.status_code == 200
    # The CORS layer wraps the whole stack, the proxy route included; GoBE's own "*" never passes.
    assert response.headers.get_list("access-control-allow-origin") == ["https://pwa.example"]


def test_cookies_travel_both_ways_when_the_setting_allows(gateway_with: Callable[..., GatewayThread],
                                                          gobe: EchoGoBE) -> None:
    gateway = gateway_with(proxy_forward_cookies=True)
    response = httpx.get(f"{gateway.url}/v1/proxy/files", headers={"Cookie": "session=s1"})
    assert gobe.seen[0].header("cookie") == "session=s1"
    assert response.headers.get_list("set-cookie") == ["session=abc; Path=/; HttpOnly", "theme=dark; Path=/"]


@pytest.mark.parametrize("status", [201, 202, 301, 400, 401, 403, 404, 409, 418, 422, 429, 500, 502, 503, 504])
def test_gobe_statuses_and_bodies_pass_through_untouched(gateway: GatewayThread, status: int) -> None:
    response = httpx.post(f"{gateway.url}/v1/proxy/status/{status}", content=b"x")
    assert response.status_code == status
    assert response.json() == {"gobe": "status"}
    assert "location" not in response.headers  # redirects are GoBE's to give, never followed by us


@pytest.mark.parametrize("status", [204, 304])
def test_bodyless_statuses_pass_through(gateway: GatewayThread, status: int) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/status/{status}", headers={"If-None-Match": '"v1"'})
    assert (response.status_code, response.content, response.headers["etag"]) == (status, b"", '"v1"')


def test_cookies_gobe_sets_are_never_replayed_on_other_requests(gateway_with: Callable[..., GatewayThread],
                                                                gobe: EchoGoBE) -> None:
    gateway = gateway_with(proxy_forward_cookies=True)
    first = httpx.get(f"{gateway.url}/v1/proxy/files")  # GoBE answers with Set-Cookie
    assert first.headers.get_list("set-cookie")
    httpx.get(f"{gateway.url}/v1/proxy/files")  # another client, no cookie of its own
    assert [seen.header("cookie") for seen in gobe.seen] == [None, None]
