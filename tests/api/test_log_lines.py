"""The log as an operator sees it: a real gateway process (uvicorn, and the demo command) under a mix of
requests, provider faults, client errors and disconnects writes exactly one JSON line per request on
stdout, nothing on stderr that is not JSON, and never a prompt, a completion, a key, an Authorization
value, a cookie or a query value."""

from __future__ import annotations

import json
import socket
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mockllm import MockLLMServer
from tests.support.process import free_port, start_process, stop_process, wait_healthy

PROMPT = "SECRET-PROMPT-5d1e"
COMPLETION = "SECRET-COMPLETION-77aa"
QUERY = "SECRET-QUERY-0c4f"
KEY = "sk-SECRETKEY9f3b1c2d"
TOKEN = "SECRET-TOKEN-aa19"
COOKIE = "SECRET-COOKIE-e2e2"
MARKERS = (PROMPT, COMPLETION, QUERY, KEY, TOKEN, COOKIE, "SECRETKEY")
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Cookie": f"session={COOKIE}", "X-Api-Key": KEY}


def _say(directive: str = "") -> str:
    """A prompt with the secret marker whose answer (from the mock) holds the completion marker."""
    return f'{PROMPT} [mock text="{COMPLETION} more words" {directive}]'


def _traffic(base: str) -> list[str]:
    """Send the mix; return the request ids sent (each request carries its own)."""
    sent: list[str] = []

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        request_id = f"mix-{len(sent)}"
        sent.append(request_id)
        headers = {**HEADERS, "X-Request-Id": request_id, **kwargs.pop("headers", {})}
        return httpx.request(method, f"{base}{path}", headers=headers, timeout=30, **kwargs)

    for provider in ("openai", "anthropic", "gemini"):
        answer = call("POST", "/v1/generate", json={"provider": provider, "user": _say(), "system": PROMPT})
        assert answer.status_code == 200, answer.text
        response = call("GET", "/v1/generate/stream", params={"provider": provider, "user": _say()})
        assert COMPLETION in response.text
    call("POST", "/v1/generate", json={"user": _say(), "stream": True})
    assert call("POST", "/v1/generate", json={"provider": "openai", "user": _say("status=500 times=9")}
                ).status_code == 502
    call("GET", "/v1/generate/stream", params={"provider": "anthropic", "user": _say("status=401 times=9")})
    call("GET", "/v1/generate/stream", params={"provider": "gemini", "user": _say("midstream_error=1 tag=m")})
    call("GET", "/v1/generate/stream", params={"provider": "openai", "user": _say("reset_after=1 tag=r")})
    assert call("POST", "/v1/generate", json={"user": PROMPT, "options": PROMPT}).status_code == 400
    assert call("POST", "/v1/generate", content=f'{{"user": "{PROMPT}"'.encode(),
                headers={"Content-Type": "application/json"}).status_code == 400
    assert call("POST", "/v1/generate", content=b"x" * 1_100_000 + PROMPT.encode()).status_code == 413
    assert call("GET", "/v1/nowhere", params={"q": QUERY}).status_code == 404
    assert call("PUT", "/v1/generate", params={"q": QUERY}).status_code == 405
    assert call("GET", "/v1/generate/stream", params={"user": QUERY, "user2": QUERY},
                headers={"Last-Event-ID": "x:1"}).status_code == 204
    assert call("GET", "/v1/generate/stream", params={"user": QUERY, "maxTokens": QUERY}).status_code == 400
    call("GET", "/v1/proxy/files/x", params={"token": QUERY})
    for _ in range(2):
        call("POST", "/v1/generate", json={"user": _say()}, headers={"Idempotency-Key": f"k-{QUERY}"})
    request_id = f"mix-{len(sent)}"
    sent.append(request_id)
    with httpx.stream("GET", f"{base}/v1/generate/stream", headers={**HEADERS, "X-Request-Id": request_id},
                      params={"user": _say("chunks=200 gap_ms=50")}, timeout=30) as response:
        next(response.iter_raw())  # the client leaves after the first bytes
    call("GET", "/v1/health")
    _refused_websocket(base, target=f"/v1/generate/stream?user={QUERY}")
    return sent


def _refused_websocket(base: str, *, target: str) -> None:
    """A WebSocket handshake never reaches the access layer; uvicorn logs its refusal (with the query)."""
    host, port = base.removeprefix("http://").split(":")
    request = (f"GET {target} HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 403")


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]  # each line must be JSON


def _assert_clean_log(out: str, err: str, *, sent: list[str]) -> None:
    for marker in MARKERS:
        assert marker not in out and marker not in err, marker
    lines = _lines(out) + _lines(err)
    per_request = Counter(str(line.get("req_id")) for line in lines)
    assert {request_id: per_request[request_id] for request_id in sent} == dict.fromkeys(sent, 1)
    for line in lines:
        if line.get("req_id") in sent:
            assert line["logger"] == "grompt_gateway.access", line
        assert "Traceback" not in json.dumps(line)


@pytest.fixture
def gateway_process(mock_llm: MockLLMServer) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(level: str) -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        env = {"LOG_LEVEL": level, "RATE_LIMIT_RPS": "0", "REQUEST_TIMEOUT_MS": "5000",
               "OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY, "GEMINI_API_KEY": KEY,
               "OPENAI_BASE_URL": mock_llm.openai_base_url, "ANTHROPIC_BASE_URL": mock_llm.anthropic_base_url,
               "GEMINI_BASE_URL": mock_llm.gemini_base_url}
        process = start_process(["-m", "uvicorn", "grompt_gateway.asgi:application", "--port", str(port),
                                 "--no-proxy-headers", "--no-access-log"], env=env)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process, timeout_s=60)
        return process, url

    yield start
    for process in started:
        if process.poll() is None:
            stop_process(process)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_one_json_line_per_request_and_no_secret_in_any_line(
        gateway_process: Callable[..., tuple[subprocess.Popen[str], str]], level: str) -> None:
    process, url = gateway_process(level)
    sent = _traffic(url)
    out, err = stop_process(process)
    _assert_clean_log(out, err, sent=sent)
    access = {line["req_id"]: line for line in _lines(out) if line.get("req_id") in sent}
    assert access["mix-0"]["provider"] == "openai" and access["mix-0"]["status"] == 200
    assert access[sent[-2]]["cancelled"] is True  # the client that left


def test_demo_mode_logs_the_same_way(mock_llm: MockLLMServer) -> None:
    """``scripts/run --demo`` is ``manage.py runserver --demo``: uvicorn with the reloader, the mock in-process."""
    port = free_port()
    process = start_process(["manage.py", "runserver", f"127.0.0.1:{port}", "--demo"], env={"RATE_LIMIT_RPS": "0"})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=60)
        sent = _traffic(f"http://127.0.0.1:{port}")
    finally:
        out, err = stop_process(process)
    _assert_clean_log(out, err, sent=sent)
    uvicorn_lines = [line["msg"] for line in _lines(out) if line["logger"] == "uvicorn.error"]
    assert "Application startup complete." in uvicorn_lines  # uvicorn's lines survive the mock's start
    assert "Application shutdown complete." in uvicorn_lines
