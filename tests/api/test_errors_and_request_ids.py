"""Every error answers the contract's JSON shape; request ids are kept when sane, replaced otherwise."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.gateway import GatewayThread


@pytest.fixture
def gateway(start_gateway: Callable[..., GatewayThread]) -> GatewayThread:
    return start_gateway()


def _assert_error_shape(response: httpx.Response, *, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/health/extra"])
def test_unknown_route_answers_json_404(gateway: GatewayThread, path: str) -> None:
    _assert_error_shape(httpx.get(gateway.url + path), status=404, code="not_found")


def test_wrong_method_answers_json_405_with_allow(gateway: GatewayThread) -> None:
    response = httpx.delete(gateway.url + "/v1/health")
    _assert_error_shape(response, status=405, code="method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_sane_request_id_is_echoed(gateway: GatewayThread) -> None:
    response = httpx.get(gateway.url + "/v1/health", headers={"X-Request-Id": "pwa-123.abc:9"})
    assert response.headers["x-request-id"] == "pwa-123.abc:9"


@pytest.mark.parametrize("bad", ["x" * 200, "has space", "<script>", "a\tb", "ü"])
def test_insane_request_id_is_replaced(gateway: GatewayThread, bad: str) -> None:
    response = httpx.get(gateway.url + "/v1/health", headers={"X-Request-Id": bad.encode("utf-8")})
    rid = response.headers["x-request-id"]
    assert rid != bad and len(rid) == 32 and rid.isalnum()


def test_request_id_is_generated_when_absent_and_unique(gateway: GatewayThread) -> None:
    ids = {httpx.get(gateway.url + "/v1/health").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
