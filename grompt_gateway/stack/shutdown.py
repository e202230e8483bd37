"""Graceful shutdown in the ASGI stack: hook SIGTERM/SIGINT to ``Drain.begin`` (chained to uvicorn's own
handler), answer ``503 shutting_down`` to requests that arrive while draining, and when the grace period
ends, stop requests still without an answer (a JSON call, a GoBE call) with ``503 shutting_down``.

Streams end themselves (``v1.sse.Relay`` watches the same ``Drain``); a response that still has not
finished ``_STREAM_END_S`` later (a client that stopped reading) is cut, so uvicorn never has to cancel
a task (which it logs as a traceback).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grompt_gateway.drain import Drain, shutting_down

# How long a started response may take to write its final event once the grace period is over.
_STREAM_END_S: Final = 1.0
_HARD_CANCEL_S: Final = 0.5
_DISCONNECT: Final[Message] = {"type": "http.disconnect"}
_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


def drain_on_signals(drain: Drain) -> None:
    """Begin draining on SIGTERM/SIGINT, then let the server's own handler run (uvicorn stops
    accepting and waits for connections). Only where the server installed one, in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        previous = signal.getsignal(sig)
        if callable(previous):
            signal.signal(sig, _chained(previous, lambda: loop.call_soon_threadsafe(drain.begin)))


def _chained(previous: Callable[[int, FrameType | None], Any],
             first: Callable[[], object]) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        first()
        previous(signum, frame)

    return handler


class ShutdownLayer:
    """Refuse new requests while draining; end the ones still running when the grace period is over."""

    def __init__(self, app: ASGIApp, *, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.drain.draining:
            raise shutting_down()
        request = _Request(receive=receive, send=send)
        unwatch = self.drain.on_expiry(request.expire)
        try:
            async with asyncio.timeout(None) as request.hard:
                await self.app(scope, request.receive, request.send)
        except TimeoutError:
            if not request.hard.expired():
                raise
        finally:
            unwatch()
            request.close()
        if request.cut and not request.started:
            raise shutting_down()


class _Request:
    """One request: when cut, ``receive()`` reports a disconnect, which makes Django cancel the view
    (and with it the provider call), the way a client that leaves does."""

    def __init__(self, *, receive: Receive, send: Send) -> None:
        self.started = False
        self.cut = False
        self.hard: asyncio.Timeout = asyncio.timeout(None)
        self._receive = receive
        self._send = send
        self._waiting: set[asyncio.Timeout] = set()
        self._timer: asyncio.TimerHandle | None = None

    def expire(self) -> None:
        if self.started:  # a stream: it ends itself with an error event; cut it if it cannot
            self._timer = asyncio.get_running_loop().call_later(_STREAM_END_S, self._cut)
        else:
            self._cut()

    def _cut(self) -> None:
        self.cut = True
        now = asyncio.get_running_loop().time()
        for bound in self._waiting:
            bound.reschedule(now)
        # Django cancels its view on the disconnect; work that never listens for one (the GoBE route
        # waiting for GoBE's answer) is cancelled outright a moment later.
        self.hard.reschedule(now + _HARD_CANCEL_S)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    async def receive(self) -> Message:
        if self.cut:
            return _DISCONNECT
        try:
            async with asyncio.timeout(None) as bound:
                self._waiting.add(bound)
                try:
                    return await self._receive()
                finally:
                    self._waiting.discard(bound)
        except TimeoutError:
            return _DISCONNECT

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
