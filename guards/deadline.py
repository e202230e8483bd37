"""``REQUEST_TIMEOUT_MS`` for every request: if no response has started by then, the work is cancelled
and the answer is ``504 timeout``. Once a response has started (a stream), this layer lets it run.

Cancelling our own task is not enough for Django: ``ASGIHandler.handle`` runs the view in a task of
its own and does not cancel it when it is itself cancelled. Django does cancel the view when the
client disconnects, so at the deadline ``receive()`` reports ``http.disconnect``; a hard cancel,
``grace_s`` later, covers apps that never listen for one.
"""

from __future__ import annotations

import asyncio
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llm.errors import DeadlineExceeded

_DISCONNECT: Final[Message] = {"type": "http.disconnect"}


class Deadline:
    """Bound the time to the first response byte of every HTTP request by ``timeout_ms``."""

    def __init__(self, app: ASGIApp, *, timeout_ms: int, grace_s: float = 0.5) -> None:
        self.app = app
        self.timeout_s = timeout_ms / 1000
        self.grace_s = grace_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        request = _Request(when=loop.time() + self.timeout_s, receive=receive, send=send)
        try:
            async with asyncio.timeout_at(request.when + self.grace_s) as hard:
                request.hard = hard
                await self.app(scope, request.receive, request.send)
        except Exception as exc:
            if request.timed_out():
                raise DeadlineExceeded("request timed out") from exc
            raise
        if request.timed_out():
            raise DeadlineExceeded("request timed out")


class _Request:
    """One request's deadline: bounds ``receive()`` until the response starts, then lifts every bound."""

    def __init__(self, *, when: float, receive: Receive, send: Send) -> None:
        self.when = when
        self.started = False
        self.hard: asyncio.Timeout | None = None
        self._receive = receive
        self._send = send
        self._waiting: set[asyncio.Timeout] = set()

    def timed_out(self) -> bool:
        return not self.started and asyncio.get_running_loop().time() >= self.when

    async def receive(self) -> Message:
        if self.started:
            return await self._receive()
        if asyncio.get_running_loop().time() >= self.when:
            return _DISCONNECT
        try:
            async with asyncio.timeout_at(self.when) as bound:
                self._waiting.add(bound)
                try:
                    return await self._receive()
                finally:
                    self._waiting.discard(bound)
        except TimeoutError:
            if self.started:  # the response won the race against the deadline
                return await self._receive()
            return _DISCONNECT

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.started:
            if self.hard is not None and self.hard.expired():
                # The hard stop fired in this loop turn and its cancellation is on its way to the request's task:
                # a response started now would be cut in its middle (the soak saw it on a starved loop). It is
                # not started, and the request ends with the 504 instead.
                raise asyncio.CancelledError
            self.started = True
            for bound in (self.hard, *self._waiting):
                if bound is not None and not bound.expired():
                    bound.reschedule(None)
        await self._send(message)
