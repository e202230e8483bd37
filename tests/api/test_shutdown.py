"""Graceful shutdown, with a real process and real signals: on SIGTERM/SIGINT the gateway stops accepting,
lets work in flight finish within SHUTDOWN_GRACE_S, then ends each open stream with an ``error`` event
``503 shutting_down`` and cancels its upstream call, and exits 0 with JSON log lines only."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mockllm import MockLLMServer
from tests.conftest import providers_on
from tests.support.gateway import GatewayThread
from tests.support.process import free_port, start_process, wait_healthy

GRACE_S = 3
LONG_STREAM = "[mock chunks=400 gap_ms=50] a long answer"


def _serve(mock: MockLLMServer, **env: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    # One provider: each SDK costs seconds of start-up on a busy machine.
    keys = {name.upper(): str(value) for name, value in providers_on(mock).items() if name.startswith("openai")}
    process = start_process(["-m", "grompt_gateway.serve", "--port", str(port)], env={
        **keys, "SHUTDOWN_GRACE_S": str(GRACE_S), "RATE_LIMIT_RPS": "0", "SSE_HEARTBEAT_S": "1", **env})
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process, timeout_s=60)
    return process, url


def _stream_events(url: str, first_chunk: threading.Event) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{url}/v1/generate/stream", params={"provider": "openai", "user": LONG_STREAM},
                      timeout=30) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                first_chunk.set()
    return events


def _generate(url: str, prompt: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/generate", json={"provider": "openai", "user": prompt}, timeout=30)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=GRACE_S + 15)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def _assert_clean_logs(out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert err.strip() == ""
    for line in out.splitlines():
        if line.strip():
            json.loads(line)  # no plain-text line


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def test_sigterm_lets_work_finish_then_ends_streams_with_shutting_down_and_exits_0(
        mock_llm: MockLLMServer, pool: ThreadPoolExecutor) -> None:
    process, url = _serve(mock_llm)
    try:
        started = [threading.Event(), threading.Event()]
        streams = [pool.submit(_stream_events, url, event) for event in started]
        quick = pool.submit(_generate, url, "[mock delay_ms=800] quick")
        slow = pool.submit(_generate, url, "[mock delay_ms=30000] slower than the grace period")
        assert all(event.wait(15) for event in started) and mock_llm.wait_for_requests(count=4, timeout_s=15)
        process.send_signal(signal.SIGTERM)
        _assert_new_connections_refused(url)
        assert quick.result(timeout=GRACE_S + 10).status_code == 200  # finished within the grace period
        late = slow.result(timeout=GRACE_S + 10)
        assert (late.status_code, late.json()["error"]["code"]) == (503, "shutting_down")
        for stream in streams:
            events = stream.result(timeout=GRACE_S + 10)
            assert events[-1]["type"] == "error"
            assert (events[-1]["status"], events[-1]["error"]["code"]) == (503, "shutting_down")
            assert [e["type"] for e in events[1:-1]] == ["chunk"] * (len(events) - 2)
        # The upstream calls of both streams and of the late JSON call were closed, not left running.
        assert mock_llm.wait_for_disconnect(count=3, timeout_s=5)
        assert mock_llm.streams_completed == 0
    finally:
        code, out, err = _finish(process)
    assert code == 0
    _assert_clean_logs(out, err)
    access = [json.loads(line) for line in out.splitlines() if '"grompt_gateway.access"' in line]
    assert sorted(line["status"] for line in access if line["path"].startswith("/v1/generate")) == [
        200, 200, 200, 503]


def test_a_client_that_stopped_reading_does_not_hold_the_shutdown(mock_llm: MockLLMServer) -> None:
    process, url = _serve(mock_llm)
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /v1/generate/stream?provider=openai&user=%5Bmock+chunks%3D100000+gap_ms%3D0%5D+hi "
                     b"HTTP/1.1\r\nHost: gw\r\n\r\n")  # and never read: the gateway's writes block
        assert mock_llm.wait_for_requests(count=1, timeout_s=15)
        process.send_signal(signal.SIGTERM)
        code, out, err = _finish(process)
    assert code == 0
    _assert_clean_logs(out, err)


def _assert_new_connections_refused(url: str) -> None:
    """Within the grace period the listening socket closes: new connections are refused."""
    for _ in range(100):  # bounded: ~0.1 s per round at most (uvicorn checks its exit flag every 0.1 s)
        try:
            httpx.get(f"{url}/v1/health", timeout=0.5)
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):  # refused, or reset from the backlog
            return
        threading.Event().wait(0.05)
    raise AssertionError("still accepting connections while draining")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_idle_gateway_exits_0_at_once_on_a_signal(mock_llm: MockLLMServer, sig: signal.Signals) -> None:
    process, _ = _serve(mock_llm)
    process.send_signal(sig)
    code, out, err = _finish(process)
    assert code == 0
    _assert_clean_logs(out, err)
    assert "grace period over" not in out  # nothing was left to end


def test_a_request_that_arrives_while_draining_on_a_kept_alive_connection_is_503(
        start_gateway: Callable[..., GatewayThread]) -> None:
    gateway = start_gateway(shutdown_grace_s=60)
    with httpx.Client(base_url=gateway.url) as client:
        assert client.get("/v1/health").status_code == 200
        gateway.call_soon(gateway.app.services.drain.begin)
        response = client.get("/v1/providers")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "shutting_down")
    assert response.headers["connection"] == "close"
    assert response.headers["retry-after"] == "1"
