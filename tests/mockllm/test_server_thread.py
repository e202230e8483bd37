"""`ServerThread` runs any ASGI app on loopback; `start_mock` and `python -m mockllm` serve the mock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from mockllm import MockLLMServer, ServerThread, start_mock

ROOT = Path(__file__).resolve().parents[2]


async def ping_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["path"] == "/forever":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"start", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"pong"})


def test_server_thread_serves_any_asgi_app_on_an_ephemeral_port() -> None:
    with ServerThread(ping_app) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url + "/ping", timeout=5).text == "pong"

    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/ping", timeout=1)


def test_stop_does_not_wait_for_open_streams() -> None:
    server = ServerThread(ping_app, graceful_shutdown_s=0.2).start()
    with httpx.Client(timeout=5) as client, client.stream("GET", server.url + "/forever") as reply:
        assert next(reply.iter_bytes()) == b"start"
        assert server.stop(timeout_s=5)


def test_start_mock_gives_each_sdk_its_base_url() -> None:
    with start_mock(chunk_delay_s=0.001) as mock:
        assert mock.openai_base_url == mock.url + "/v1"
        assert mock.anthropic_base_url == mock.url
        assert mock.gemini_base_url == mock.url
        assert mock.wait_for_disconnect(timeout_s=0.01) is False


def test_two_mocks_run_side_by_side(mock: MockLLMServer) -> None:
    with MockLLMServer() as other:
        assert other.port != mock.port


def test_python_dash_m_mockllm_serves_until_interrupted() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockllm",
            "--port",
            str(port),
            "--chunk-delay-ms",
            "0",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()["status"] == "ok"
                break
            except httpx.ConnectError:
                assert proc.poll() is None, "python -m mockllm exited early"
                assert time.monotonic() < deadline, "python -m mockllm did not start"
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
