"""REQUEST_TIMEOUT_MS: no response by then → the work is cancelled and the answer is 504 timeout; a
response that has started (a stream) is left alone here and bounded inside MultiAI instead."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from grompt_gateway.application import GatewayApplication
from grompt_gateway.stack.access import AccessLayer
from guards import Deadline
from llm.errors import DeadlineExceeded
from mockllm import MockLLMServer, ServerThread
from tests.conftest import providers_on
from tests.guards.test_body_limit import read_response
from tests.support.gateway import GatewayThread, settings
from tests.support.sse import read_sse

Start = Callable[..., GatewayThread]
BODY = {"user": "hi"}


def test_past_the_deadline_the_answer_is_504_and_the_provider_call_is_aborted(
        gateway_with: Start, mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(request_timeout_ms=400)
    mock_llm.enqueue("hang=1")
    started = time.monotonic()
    response = httpx.post(f"{gateway.url}/v1/generate", json=BODY, timeout=10)
    assert response.status_code == 504
    assert response.json()["error"] == {"code": "timeout", "message": "request timed out"}
    assert mock_llm.wait_for_disconnect(timeout_s=2)
    assert mock_llm.requests[0].disconnected_s is not None
    assert mock_llm.requests[0].disconnected_s - started < 2


def test_the_deadline_cancels_the_django_view_not_just_its_own_task(mock_llm: MockLLMServer) -> None:
    # The gateway's own timeouts (layer and MultiAI) are far away; only the outer Deadline can act.
    gateway = GatewayApplication(settings(**providers_on(mock_llm), default_provider="openai",
                                          default_model="gpt-4o-mini", openai_models=("gpt-4o-mini",),
                                          request_timeout_ms=30_000))
    with ServerThread(AccessLayer(Deadline(gateway, timeout_ms=300))) as server:
        httpx.get(f"{server.url}/v1/providers", timeout=30)
        mock_llm.enqueue("hang=1")
        response = httpx.post(f"{server.url}/v1/generate", json=BODY, timeout=10)
        assert response.status_code == 504
        # Cancelling only the handler's task would leave Django's view task calling the provider.
        assert mock_llm.wait_for_disconnect(timeout_s=2)


def test_a_stalled_upload_times_out_too(gateway_with: Start) -> None:
    gateway = gateway_with(request_timeout_ms=300)
    head = b"POST /v1/generate HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(head + b'{"user": "')  # and then nothing more
        answer = read_response(sock)
    assert answer.startswith("HTTP/1.1 504 ")
    assert '"code":"timeout"' in answer


def test_a_stream_past_stream_timeout_ends_with_an_error_event(gateway_with: Start,
                                                                mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(request_timeout_ms=1000, stream_timeout_ms=700)
    mock_llm.enqueue("chunks=40 gap_ms=50")  # 2 s of steady chunks: never idle, yet too long
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=BODY, timeout=10) as response:
        assert response.status_code == 200
        transcript = read_sse(response)
    assert transcript.types[0] == "start" and "chunk" in transcript.types
    assert transcript.types[-1] == "error"
    assert transcript.last("error")["error"]["code"] == "timeout"
    assert mock_llm.wait_for_disconnect(timeout_s=2)
    assert mock_llm.requests[0].chunks_sent < 40  # cut short, not run to the end for nobody


def test_a_stream_idle_past_request_timeout_ends_with_an_error_event(gateway_with: Start,
                                                                      mock_llm: MockLLMServer) -> None:
    gateway = gateway_with(request_timeout_ms=400, stream_timeout_ms=60_000)
    mock_llm.enqueue("chunks=10 stall_after=2")
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=BODY, timeout=10) as response:
        transcript = read_sse(response)
    assert transcript.types[:3] == ["start", "chunk", "chunk"]
    assert transcript.types[-1] == "error"
    assert transcript.last("error")["error"]["code"] == "timeout"
    assert mock_llm.wait_for_disconnect(timeout_s=2)


# The layer alone, with hand-written ASGI apps.

class Exchange:
    """A client that sends an empty body, then stays connected; records what the app sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._body_sent = False
        self.gone = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))


SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/x", "headers": []}


@pytest.mark.anyio
async def test_an_app_that_never_listens_is_cancelled_after_the_grace_period() -> None:
    cancelled = asyncio.Event()

    async def deaf(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    exchange = Exchange()
    with pytest.raises(DeadlineExceeded):
        await asyncio.wait_for(Deadline(deaf, timeout_ms=50, grace_s=0.05)(SCOPE, exchange.receive, exchange.send),
                               timeout=5)
    assert cancelled.is_set()
    assert exchange.sent == []


@pytest.mark.anyio
async def test_a_response_started_before_the_deadline_runs_to_its_end() -> None:
    listener_saw: list[str] = []

    async def slow_stream(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # the request body
        listener = asyncio.create_task(receive())  # like Django's disconnect listener

        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(6):
            await asyncio.sleep(0.05)  # 300 ms in all: far past the 50 ms deadline
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        listener_saw.append("done" if not listener.done() else listener.result()["type"])
        listener.cancel()

    exchange = Exchange()
    await asyncio.wait_for(Deadline(slow_stream, timeout_ms=50, grace_s=0.05)(SCOPE, exchange.receive,
                                                                             exchange.send), timeout=5)
    assert [m["type"] for m in exchange.sent].count("http.response.body") == 7
    assert listener_saw == ["done"]  # never told "disconnect" after the response began


@pytest.mark.anyio
async def test_a_listening_app_is_told_the_client_left_at_the_deadline() -> None:
    seen: list[str] = []

    async def listening(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        seen.append((await receive())["type"])  # parks until the client leaves

    exchange = Exchange()
    with pytest.raises(DeadlineExceeded):
        await asyncio.wait_for(Deadline(listening, timeout_ms=50, grace_s=5)(SCOPE, exchange.receive,
                                                                            exchange.send), timeout=2)
    assert seen == ["http.disconnect"]
