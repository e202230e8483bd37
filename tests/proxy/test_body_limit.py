"""PROXY_MAX_BODY_BYTES: declared or chunked, a body over the limit is refused with 413 and never
completes at GoBE; the proxy stops reading it as soon as it is over."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.proxy.echo_gobe import EchoGoBE
from tests.proxy.raw_http import raw_request
from tests.support.gateway import GatewayThread

LIMIT_BYTES = 100_000


@pytest.fixture
def limited(gateway_with: Callable[..., GatewayThread]) -> GatewayThread:
    return gateway_with(proxy_max_body_bytes=LIMIT_BYTES)


def _chunks(total_bytes: int, *, chunk_bytes: int = 16_384) -> Iterator[bytes]:
    for start in range(0, total_bytes, chunk_bytes):
        yield b"c" * min(chunk_bytes, total_bytes - start)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_declared_length_over_the_limit_is_413_before_gobe_is_called(limited: GatewayThread,
                                                                       gobe: EchoGoBE, method: str) -> None:
    response = httpx.request(method, f"{limited.url}/v1/proxy/files", content=b"x" * (LIMIT_BYTES + 1))
    assert _code(response) == (413, "payload_too_large")
    assert gobe.seen == []


def test_a_chunked_body_over_the_limit_is_413_and_never_completes_at_gobe(limited: GatewayThread,
                                                                          gobe: EchoGoBE) -> None:
    response = httpx.post(f"{limited.url}/v1/proxy/files", content=_chunks(3_000_000))
    assert _code(response) == (413, "payload_too_large")
    assert not [seen for seen in gobe.seen if seen.completed]
    # Reading stopped at the first chunk over the limit: GoBE got at most the limit.
    assert all(seen.body_bytes <= LIMIT_BYTES for seen in gobe.seen)


def test_a_body_of_exactly_the_limit_passes(limited: GatewayThread, gobe: EchoGoBE) -> None:
    assert httpx.post(f"{limited.url}/v1/proxy/files", content=b"x" * LIMIT_BYTES).json()["bytes"] == LIMIT_BYTES
    assert httpx.post(f"{limited.url}/v1/proxy/files", content=_chunks(LIMIT_BYTES)).json()["bytes"] == LIMIT_BYTES


def test_a_post_without_length_or_chunking_has_an_empty_body(limited: GatewayThread, gobe: EchoGoBE) -> None:
    status, _ = raw_request(limited.url, b"/v1/proxy/files", method=b"POST")
    assert status == 200
    assert gobe.seen[0].body_bytes == 0
