"""The access line of a proxied request: sizes, GoBE's status and latency; never the query, a body,
the Authorization value or a cookie."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from tests.support.gateway import GatewayThread


def test_access_line_has_sizes_and_upstream_fields_but_no_secrets(
    gateway: GatewayThread, access_line: Callable[[str], logging.LogRecord]
) -> None:
    body = b"secret-body-" * 1000
    httpx.put(f"{gateway.url}/v1/proxy/files/doc.txt?token=query-secret", content=body,
              headers={"Authorization": "Bearer auth-secret", "Cookie": "sid=cookie-secret"})
    line = access_line("/v1/proxy/files/doc.txt")
    fields = vars(line)
    assert fields["method"] == "PUT" and fields["status"] == 200
    assert fields["bytes_in"] == len(body)
    assert fields["bytes_out"] > 0
    assert fields["upstream_status"] == 200
    assert fields["upstream_ms"] >= 0 and fields["lat_ms"] >= fields["upstream_ms"]
    text = repr(fields)
    for secret in ("query-secret", "auth-secret", "cookie-secret", "secret-body"):
        assert secret not in text


def test_a_refused_request_is_logged_without_upstream_fields(
    gateway: GatewayThread, access_line: Callable[[str], logging.LogRecord]
) -> None:
    httpx.get(f"{gateway.url}/v1/proxy/admin")
    fields = vars(access_line("/v1/proxy/admin"))
    assert fields["status"] == 403 and fields["bytes_in"] == 0
    assert "upstream_status" not in fields
