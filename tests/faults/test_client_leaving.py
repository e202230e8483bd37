"""A client that leaves at the worst moment still stops its upstream call: as the first chunk reaches the relay
(the commit window), and through a real gateway, at random moments, for every provider."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from grompt_gateway.v1.sse import Relay, StreamReport
from llm.ports import GenStream, StreamOutcome

pytestmark = pytest.mark.anyio


async def test_leaving_as_the_first_chunk_arrives_is_not_lost() -> None:
    closed, provider_answers = asyncio.Event(), asyncio.Event()
    waiting: asyncio.Future[object] | None = None

    async def chunks() -> AsyncIterator[str]:
        try:
            await provider_answers.wait()
            yield "first"
            assert waiting is not None
            waiting.cancel()  # the client leaves in the same loop turn as the first chunk reaches the relay
            await asyncio.Event().wait()  # the provider would go on streaming
            yield "never"
        finally:
            closed.set()

    relay = Relay(GenStream(chunks(), StreamOutcome()), heartbeat_s=0, started=0.0)
    waiting = asyncio.ensure_future(relay.first(commit_window_s=5))
    for _ in range(5):  # let the relay wait for its first chunk
        await asyncio.sleep(0)
    provider_answers.set()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    await relay.aclose()  # what the view does when ``first`` raises
    assert closed.is_set()


async def test_cancelling_the_handler_cancels_the_view_it_started() -> None:
    """The deadline's hard stop (or a server shutting down) cancels the request task while the view runs in a
    task of its own: that view, and the upstream call in it, must not be left running."""
    from grompt_gateway.stack.django_handler import GatewayASGIHandler

    view_started, view_ended = asyncio.Event(), asyncio.Event()

    class Probe(GatewayASGIHandler):
        async def run_get_response(self, request: object) -> Any:
            view_started.set()
            try:
                await asyncio.Event().wait()  # a view waiting for its provider
            finally:
                view_ended.set()

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client stays
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent")

    handling = asyncio.ensure_future(Probe()._respond(cast(Any, None), receive=receive, send=send))
    await view_started.wait()
    handling.cancel()

    with pytest.raises(asyncio.CancelledError):
        await handling
    assert view_ended.is_set()


async def test_a_stream_body_never_iterated_still_stops_the_provider_call() -> None:
    """The view returned its response, then the request ended before the body's first write (the client left,
    or the request was stopped): nothing runs the body's own cleanup, so the request's end must."""
    provider_started, closed = asyncio.Event(), asyncio.Event()

    async def chunks() -> AsyncIterator[str]:
        try:
            provider_started.set()
            yield "first"
            await asyncio.Event().wait()
            yield "never"
        finally:
            closed.set()

    reports: list[StreamReport] = []

    async def request() -> Relay:
        relay = Relay(GenStream(chunks(), StreamOutcome()), heartbeat_s=0, started=0.0)
        relay.when_over(reports.append)  # the handler's settle of the budget and its stream metrics
        await provider_started.wait()
        return relay  # the response is built and dropped: its body is never iterated

    await asyncio.ensure_future(request())

    await asyncio.wait_for(closed.wait(), timeout=5)
    assert [report.cancelled for report in reports] == [True]  # settled once, as a client that left


async def test_a_response_ready_as_the_hard_deadline_fires_is_not_started_then_cut() -> None:
    """A starved loop runs the deadline's hard stop and the view's first write in one turn: the response must
    not start (it would be cut in its middle by the cancellation already on its way); the answer is the 504."""
    from guards import Deadline
    from llm.errors import DeadlineExceeded

    sent: list[Any] = []

    provider, gateway_end = socket.socketpair()
    provider.setblocking(False)
    gateway_end.setblocking(False)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def respond() -> None:  # Django runs the view in a task of its own
            await asyncio.get_running_loop().sock_recv(gateway_end, 1)  # the first chunk arrives
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"cut in its middle"})

        responder = asyncio.ensure_future(respond())
        await asyncio.sleep(0)  # the view waits for its provider
        provider.send(b"x")
        # A starved loop: the chunk (I/O, run first) and the hard stop (a timer) are handled in one turn.
        time.sleep(0.2)  # noqa: ASYNC251 - the starvation is the point
        try:
            await asyncio.wait({responder})
        finally:
            responder.cancel()
            await asyncio.wait({responder})

    async def receive() -> Any:
        await asyncio.Event().wait()

    async def send(message: Any) -> None:
        sent.append(message)

    with provider, gateway_end, pytest.raises(DeadlineExceeded):
        await Deadline(app, timeout_ms=50, grace_s=0.05)({"type": "http"}, receive, send)
    assert sent == []
