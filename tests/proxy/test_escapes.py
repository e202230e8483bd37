"""Through a real gateway: no path outside the allow-list, and no escape attempt, ever reaches GoBE;
the answers are the contract's 400/403/405 JSON errors."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.proxy.echo_gobe import EchoGoBE
from tests.proxy.raw_http import raw_request
from tests.support.gateway import GatewayThread

ESCAPES = [
    b"/v1/proxy/files/../admin", b"/v1/proxy/files/..", b"/v1/proxy/..", b"/v1/proxy/files/./x",
    b"/v1/proxy/files/..;/admin", b"/v1/proxy/files/%2e%2e/admin", b"/v1/proxy/files/%2E%2e/admin",
    b"/v1/proxy/files/.%2e/admin", b"/v1/proxy/files%2f..%2fadmin", b"/v1/proxy/files%2Fx",
    b"/v1/proxy/files/a%5c..%5cadmin", b"/v1/proxy/files/a\\..\\admin", b"/v1/proxy/files/%252e%252e/admin",
    b"/v1/proxy/files//x", b"/v1/proxy//evil.example/files", b"/v1/proxy///files",
    b"/v1/proxy/http://evil.example/files", b"/v1/proxy/https:%2F%2Fevil.example/files",
    b"/v1/proxy/files/a%00b", b"/v1/proxy/files/a%0d%0aX-Injected:%201", b"/v1/proxy/files/a%7fb",
    b"/v1/proxy/files/%zz", b"/v1/%70roxy/files", b"/v1/proxy%2ffiles",
]
# Raw control characters and bare absolute URLs may be refused by the HTTP parser itself (400) before
# the gateway sees them; either way GoBE must never be called.
PARSER_LEVEL = [b"/v1/proxy/files/a\x01b", b"/v1/proxy/files/a\x7fb", b"http://evil.example/v1/proxy/x"]
NOT_ALLOWED = [b"/v1/proxy", b"/v1/proxy/", b"/v1/proxy/filesystem", b"/v1/proxy/admin", b"/v1/proxy/auth",
               b"/v1/proxy/auth/logout", b"/v1/proxy/x/files", b"/v1/proxy/Files"]


def _error_code(body: bytes) -> str:
    return str(json.loads(body)["error"]["code"])


@pytest.mark.parametrize("target", ESCAPES)
@pytest.mark.parametrize("method", [b"GET", b"POST", b"DELETE"])
def test_escape_attempts_are_refused_without_calling_gobe(gateway: GatewayThread, gobe: EchoGoBE,
                                                          target: bytes, method: bytes) -> None:
    status, body = raw_request(gateway.url, target, method=method)
    assert (status, _error_code(body)) == (400, "invalid_request")
    assert gobe.seen == []


@pytest.mark.parametrize("target", PARSER_LEVEL)
def test_malformed_request_lines_never_reach_gobe(gateway: GatewayThread, gobe: EchoGoBE, target: bytes) -> None:
    status, _ = raw_request(gateway.url, target)
    assert status in (400, 403, 404)
    assert gobe.seen == []


@pytest.mark.parametrize("target", NOT_ALLOWED)
def test_paths_outside_the_allow_list_are_403_without_calling_gobe(gateway: GatewayThread, gobe: EchoGoBE,
                                                                    target: bytes) -> None:
    status, body = raw_request(gateway.url, target, method=b"POST")
    assert (status, _error_code(body)) == (403, "path_not_allowed")
    assert gobe.seen == []


def test_a_look_alike_prefix_is_not_the_proxy(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxyfiles")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert gobe.seen == []


@pytest.mark.parametrize("method", ["HEAD", "TRACE", "CONNECT", "PROPFIND"])
def test_methods_outside_the_contract_are_405_with_allow(gateway: GatewayThread, gobe: EchoGoBE,
                                                         method: str) -> None:
    response = httpx.request(method, f"{gateway.url}/v1/proxy/files")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, PUT, PATCH, DELETE"
    assert gobe.seen == []


def test_the_target_host_is_always_gobe(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    for path in ("files/@evil.example", "files/evil.example:80", "files/%40evil.example"):
        assert httpx.get(f"{gateway.url}/v1/proxy/{path}").status_code == 200
    assert raw_request(gateway.url, b"http://evil.example/v1/proxy/files")[0] == 200  # absolute-form target
    gobe_host = httpx.URL(gateway.settings.gobe_base_url or "").netloc.decode()
    assert [seen.header("host") for seen in gobe.seen] == [gobe_host] * 4
