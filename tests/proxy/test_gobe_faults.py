"""GoBE misbehaving (the fault suite's GoBE half; refused, reset, slow and cut are in test_failures.py): an HTML
page and a huge single chunk pass through as GoBE's own answer, and silence after the head ends with the client's
connection cut (its status was already sent) and a log line saying why, never a hang or a 500."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.echo_gobe import HTML, pattern
from tests.support.gateway import GatewayThread


def test_an_html_page_from_gobe_passes_through_as_its_answer(gateway: GatewayThread) -> None:
    response = httpx.get(f"{gateway.url}/v1/proxy/html", timeout=5)

    assert (response.status_code, response.headers["content-type"], response.content) == (200, "text/html", HTML)


def test_one_huge_chunk_from_gobe_arrives_whole(gateway: GatewayThread) -> None:
    size = 8 * 1024 * 1024
    digest = hashlib.sha256()
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/huge/{size}", timeout=10) as response:
        assert response.status_code == 200
        for block in response.iter_raw():
            digest.update(block)
    assert digest.hexdigest() == hashlib.sha256(pattern(size)).hexdigest()


def test_silence_after_the_head_cuts_the_client_connection_at_the_read_timeout(
    gateway_with: Callable[..., GatewayThread], access_line: Callable[[str], logging.LogRecord]
) -> None:
    gateway = gateway_with(proxy_read_timeout_ms=200)
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/silence/3", timeout=5) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()  # nothing of the 100 promised bytes, then the connection closes
    assert access_line("/v1/proxy/silence/3").upstream_error == "ReadTimeout"  # type: ignore[attr-defined]
