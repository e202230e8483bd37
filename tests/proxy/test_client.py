"""GoBEClient on its own, through httpx's MockTransport: the retry rule and the error translation
(conditions a loopback server cannot produce on demand: a refused first connect, a connect timeout)."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from grompt_gateway.http_errors import status_for
from llm.errors import GatewayError
from proxy import GoBEClient
from proxy.errors import GoBEConnectionError, GoBETimeout


def _client(handler: Callable[[httpx2.Request], httpx2.Response]) -> GoBEClient:
    return GoBEClient(base_url="http://gobe.internal/api/", connect_timeout_s=1, read_timeout_s=1,
                      transport=httpx2.MockTransport(handler))


def _failing_then_ok(
    error: type[httpx2.TransportError], *, failures: int
) -> tuple[list[str], Callable[[httpx2.Request], httpx2.Response]]:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        if len(calls) <= failures:
            raise error("boom", request=request)
        return httpx2.Response(200, text="ok")

    return calls, handler


@pytest.mark.anyio
async def test_a_get_that_could_not_connect_is_tried_once_more() -> None:
    calls, handler = _failing_then_ok(httpx2.ConnectError, failures=1)
    gobe = _client(handler)
    response = await gobe.open(method="GET", url=gobe.url("files", query=b""), headers=[], body=None)
    assert (response.status_code, calls) == (200, ["GET", "GET"])
    await gobe.aclose()


@pytest.mark.anyio
async def test_a_get_is_retried_at_most_once() -> None:
    calls, handler = _failing_then_ok(httpx2.ConnectError, failures=5)
    gobe = _client(handler)
    with pytest.raises(GoBEConnectionError):
        await gobe.open(method="GET", url=gobe.url("files", query=b""), headers=[], body=None)
    assert calls == ["GET", "GET"]


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_other_methods_are_never_retried(method: str) -> None:
    calls, handler = _failing_then_ok(httpx2.ConnectError, failures=1)
    gobe = _client(handler)
    with pytest.raises(GoBEConnectionError):
        await gobe.open(method=method, url=gobe.url("files", query=b""), headers=[], body=None)
    assert calls == [method]


@pytest.mark.anyio
@pytest.mark.parametrize(("error", "expected", "status"), [
    (httpx2.ConnectTimeout, GoBETimeout, 504), (httpx2.ReadTimeout, GoBETimeout, 504),
    (httpx2.WriteTimeout, GoBETimeout, 504), (httpx2.PoolTimeout, GoBETimeout, 504),
    (httpx2.ConnectError, GoBEConnectionError, 502), (httpx2.ReadError, GoBEConnectionError, 502),
    (httpx2.RemoteProtocolError, GoBEConnectionError, 502),
])
async def test_transport_failures_map_to_the_contract(error: type[httpx2.TransportError],
                                                      expected: type[GatewayError],
                                                      status: int) -> None:
    calls, handler = _failing_then_ok(error, failures=2)
    gobe = _client(handler)
    with pytest.raises(expected) as caught:
        await gobe.open(method="POST", url=gobe.url("files", query=b""), headers=[], body=None)
    assert isinstance(caught.value.__cause__, error)
    assert status_for(caught.value) == status
    assert "boom" not in caught.value.message  # our words, never the library's
    assert len(calls) == 1


def test_the_target_is_always_under_the_base_url() -> None:
    gobe = GoBEClient(base_url="https://gobe.internal:8443/api/", connect_timeout_s=1, read_timeout_s=1)
    assert str(gobe.url("files/a%20b", query=b"x=1&y=%2F")) == "https://gobe.internal:8443/api/files/a%20b?x=1&y=%2F"
    assert str(gobe.url("", query=b"")) == "https://gobe.internal:8443/api/"
    assert gobe.url("files", query=b"q=\xc3\xa9 #x&r=%zz").raw_path == b"/api/files?q=%C3%A9%20%23x&r=%zz"


def test_one_pool_per_client_with_the_configured_timeouts() -> None:
    gobe = GoBEClient(base_url="http://gobe.internal", connect_timeout_s=1.5, read_timeout_s=7)
    assert gobe.client is gobe.client
    assert gobe.client.timeout == httpx2.Timeout(connect=1.5, read=7, write=7, pool=1.5)


@pytest.mark.anyio
async def test_aclose_closes_the_pool_and_a_later_use_opens_a_new_one() -> None:
    gobe = GoBEClient(base_url="http://gobe.internal", connect_timeout_s=1, read_timeout_s=1)
    first = gobe.client
    await gobe.aclose()
    assert first.is_closed
    assert gobe.client is not first
    await gobe.aclose()
