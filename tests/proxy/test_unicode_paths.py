"""Paths GoBE could decode or normalise into another path: invalid or overlong UTF-8, and characters
that NFKC or a look-alike fold turns into "." or "/" (or "\\"), are refused with 400 before GoBE is called."""

from __future__ import annotations

import json

import pytest

from llm.errors import InvalidRequest
from proxy.allow import normalise_path
from tests.proxy.echo_gobe import EchoGoBE
from tests.proxy.raw_http import raw_request
from tests.support.gateway import GatewayThread

REFUSED = [
    b"/v1/proxy/files/%C0%AE%C0%AE/admin",  # overlong "." (the classic IIS bypass)
    b"/v1/proxy/files/%C0%AF", b"/v1/proxy/files/%E0%80%AE",  # overlong "/" and 3-byte "."
    b"/v1/proxy/files/%FF", b"/v1/proxy/files/%C3",  # not UTF-8
    b"/v1/proxy/files/%ED%A0%80",  # an encoded surrogate
    b"/v1/proxy/files/%EF%BC%8E%EF%BC%8E/admin",  # the same, escaped
    b"/v1/proxy/files%EF%BC%8Fadmin",  # fullwidth solidus
    b"/v1/proxy/files/%E2%80%A4%E2%80%A4/admin",  # U+2024 one dot leader
    b"/v1/proxy/files/%EF%B9%92%EF%B9%92/admin",  # U+FE52 small full stop
    b"/v1/proxy/files%E2%88%95admin",  # U+2215 division slash
    b"/v1/proxy/files%E2%81%84admin",  # U+2044 fraction slash
    b"/v1/proxy/files/a%EF%BC%BCb",  # fullwidth reverse solidus
    b"/v1/proxy/files/%E2%80%A5/admin",  # U+2025 two dot leader
    b"/v1/proxy/files/%E3%80%82%E3%80%82/admin",  # ideographic full stop
    b"/v1/proxy/files/a%E2%80%8Bb",  # zero-width space (format character)
    b"/v1/proxy/files/%EF%BC%85%32%65",  # fullwidth percent
]
ALLOWED = [("/files/caf%C3%A9", "files/caf%C3%A9"), ("/files/%E6%97%A5%E6%9C%AC", "files/%E6%97%A5%E6%9C%AC"),
           ("/files/café".encode().decode("latin-1"), "files/caf%C3%A9")]


@pytest.mark.parametrize("target", REFUSED)
def test_normalisable_or_invalid_paths_are_400_and_never_reach_gobe(gateway: GatewayThread, gobe: EchoGoBE,
                                                                    target: bytes) -> None:
    status, body = raw_request(gateway.url, target, method=b"POST")
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_request")
    assert gobe.seen == []


@pytest.mark.parametrize("raw", [b"/files/\xc0\xae\xc0\xae/admin", "/files/\uff0e\uff0e/admin".encode(),
                                 "/files\u2215admin".encode(), b"/files/\xff"])
def test_raw_non_ascii_bytes_are_judged_the_same_way(gateway: GatewayThread, gobe: EchoGoBE, raw: bytes) -> None:
    with pytest.raises(InvalidRequest):  # httptools refuses raw non-ASCII targets; other servers may not
        normalise_path(raw)
    status, _ = raw_request(gateway.url, b"/v1/proxy" + raw)
    assert status == 400
    assert gobe.seen == []


@pytest.mark.parametrize(("raw", "forwarded"), ALLOWED)
def test_ordinary_non_ascii_names_still_pass_percent_encoded(raw: str, forwarded: str) -> None:
    assert normalise_path(raw.encode("latin-1")) == forwarded


def test_an_ordinary_non_ascii_name_reaches_gobe(gateway: GatewayThread, gobe: EchoGoBE) -> None:
    status, _ = raw_request(gateway.url, b"/v1/proxy/files/caf%C3%A9")
    assert status == 200
    assert gobe.seen[0].raw_path == "/api/files/caf%C3%A9"
