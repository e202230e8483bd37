"""No thread hop per request: a generate request, JSON or SSE, never enters ``sync_to_async`` nor submits
work to a thread pool on the gateway's event loop thread (grompt_gateway/stack/django_handler.py).

A hop costs a thread wake-up and a GIL hand-over per request; dropping Django's per-request
``ThreadSensitiveContext`` is safe only while nothing sync and thread-bound runs per request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import threading
from collections.abc import Callable
from typing import Any

import asgiref.sync
import httpx
import pytest
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections, reset_queries

from tests.support.gateway import GatewayThread

_GATEWAY_THREAD = "gateway"  # GatewayThread's name: its uvicorn and event loop run there


class HopCounter:
    """Count ``sync_to_async`` calls and thread-pool submissions made from the gateway's loop thread."""

    def __init__(self) -> None:
        self.hops: list[str] = []

    def note(self, kind: str, target: Any) -> None:
        if threading.current_thread().name == _GATEWAY_THREAD:
            self.hops.append(f"{kind}: {getattr(target, '__qualname__', target)!s}")


@pytest.fixture
def hop_counter(monkeypatch: pytest.MonkeyPatch) -> HopCounter:
    counter = HopCounter()
    sync_to_async_call = asgiref.sync.SyncToAsync.__call__
    submit = concurrent.futures.ThreadPoolExecutor.submit

    async def counted_call(self: asgiref.sync.SyncToAsync, *args: Any, **kwargs: Any) -> Any:
        counter.note("sync_to_async", self.func)
        return await sync_to_async_call(self, *args, **kwargs)

    def counted_submit(self: concurrent.futures.ThreadPoolExecutor, fn: Callable[..., Any], /,
                       *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        counter.note("executor", fn)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counted_call)
    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "submit", counted_submit)
    return counter


def _generate(gateway: GatewayThread, *, stream: bool) -> None:
    body = {"provider": "openai", "user": "hi", "stream": stream, "options": {"maxTokens": 8}}
    with httpx.stream("POST", f"{gateway.url}/v1/generate", json=body, timeout=10) as response:
        assert response.status_code == 200
        response.read()


def _stream_get(gateway: GatewayThread) -> None:
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params={"provider": "openai", "user": "hi"},
                      timeout=10) as response:
        assert response.status_code == 200
        response.read()


@pytest.fixture
def warm_gateway(gateway: GatewayThread) -> GatewayThread:
    # Once per process, not per request: the SDK detects the platform in a thread on its first call.
    _generate(gateway, stream=False)
    _generate(gateway, stream=True)
    return gateway


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_generate_runs_without_thread_hops(warm_gateway: GatewayThread, hop_counter: HopCounter,
                                           stream: bool) -> None:
    for _ in range(5):
        _generate(warm_gateway, stream=stream)
    assert hop_counter.hops == []


def test_get_stream_runs_without_thread_hops(warm_gateway: GatewayThread, hop_counter: HopCounter) -> None:
    for _ in range(3):
        _stream_get(warm_gateway)
    assert hop_counter.hops == []


def test_the_counter_sees_the_hops_of_djangos_stock_handler(hop_counter: HopCounter) -> None:
    """The check above would catch a regression: stock Django hops for signals and ``response.close``."""

    async def one_request() -> None:
        sent: list[dict[str, Any]] = []
        received: list[str] = []

        async def receive() -> dict[str, Any]:
            if not received:
                received.append("body")
                return {"type": "http.request", "body": b""}
            await asyncio.sleep(5)  # no disconnect while the response is under way
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/nope", "query_string": b"", "headers": [],
                 "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
        await asyncio.wait_for(ASGIHandler()(scope, receive, send), 10)
        assert sent[0]["type"] == "http.response.start"

    thread = threading.Thread(target=asyncio.run, args=(one_request(),), name=_GATEWAY_THREAD)
    thread.start()
    thread.join(15)
    assert any(hop.startswith("sync_to_async") for hop in hop_counter.hops)


def test_no_database_housekeeping_per_request(gateway: GatewayThread) -> None:
    """With no database, Django's per-request connection receivers only walk dummy connections: they
    are disconnected (grompt_gateway/stack/django_handler.py); ``disconnect`` answers whether one was there."""
    assert not signals.request_started.disconnect(close_old_connections)
    assert not signals.request_started.disconnect(reset_queries)
    assert not signals.request_finished.disconnect(close_old_connections)


def test_startup_heap_is_frozen(gateway: GatewayThread) -> None:
    """What start-up built is out of the collector's reach: a full collection no longer walks it (it
    stalled requests for ~90 ms, grompt_gateway/application.py)."""
    httpx.get(f"{gateway.url}/v1/health", timeout=10).raise_for_status()
    assert gc.get_freeze_count() > 50_000
