"""MAX_BODY_BYTES is the limit, exactly, in a real process: a body of MAX_BODY_BYTES bytes is served and one
byte more is 413, by Content-Length and chunked, also above Django's own 2.5 MB default."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.support.process import free_port, start_process, stop_process, wait_healthy

LIMIT = 3_000_000  # above Django's DATA_UPLOAD_MAX_MEMORY_SIZE default (2,621,440)


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    port = free_port()
    process: subprocess.Popen[str] = start_process(
        ["-m", "uvicorn", "grompt_gateway.asgi:application", "--port", str(port), "--no-proxy-headers",
         "--no-access-log"],
        env={"MAX_BODY_BYTES": str(LIMIT), "GROMPT_DEMO": "1", "DEMO_CHUNK_DELAY_MS": "0", "LOG_LEVEL": "WARNING",
             "RATE_LIMIT_RPS": "0"})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process, timeout_s=60)  # demo mode imports all three SDKs: slow on a busy machine
        yield url
    finally:
        stop_process(process)


def _body(size: int) -> bytes:
    """A valid generate request padded with JSON whitespace to exactly ``size`` bytes."""
    core = b'{"provider":"openai","user":"hi"'
    return core + b" " * (size - len(core) - 1) + b"}"


def _chunks(body: bytes) -> Iterator[bytes]:  # no Content-Length: httpx sends Transfer-Encoding: chunked
    for start in range(0, len(body), 65_536):
        yield body[start:start + 65_536]


@pytest.mark.parametrize("chunked", [False, True])
def test_max_body_bytes_passes_and_one_more_byte_is_413(gateway_url: str, chunked: bool) -> None:
    for size, expected in ((LIMIT, 200), (LIMIT + 1, 413)):
        body = _body(size)
        assert len(body) == size
        response = httpx.post(f"{gateway_url}/v1/generate", content=_chunks(body) if chunked else body,
                              headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code == expected, response.text
        if expected == 413:
            assert response.json()["error"]["code"] == "payload_too_large"
