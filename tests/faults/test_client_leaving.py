"""A client that leaves at the worst moment still stops its upstream call: as the first chunk reaches the relay
(the commit window), and through a real gateway, at random moments, for every provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from grompt_gateway.v1.sse import Relay
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
