"""Graceful shutdown, the coordinator: ``begin()`` when the process is told to stop (SIGTERM/SIGINT),
then, ``SHUTDOWN_GRACE_S`` later, the callbacks of whatever is still running (open streams, requests
without an answer) so each can end itself with ``503 shutting_down``. Django-free; held by ``Services``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from llm.errors import GatewayError

log = logging.getLogger("grompt_gateway.shutdown")


class ShuttingDown(GatewayError):
    """The process is draining: no new work, and what outlived the grace period is ended (503)."""

    code = "shutting_down"


def shutting_down() -> ShuttingDown:
    # Connection: close, so a kept-alive client reconnects (to another worker or instance); Retry-After too.
    return ShuttingDown("the gateway is shutting down", retry_after_s=1, headers={"Connection": "close"})


class Drain:
    """Shared by every request of one application; all methods run on its event loop."""

    def __init__(self, *, grace_s: float) -> None:
        self.grace_s = grace_s
        self.draining = False
        self.expired = False
        self._callbacks: set[Callable[[], None]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        """Stop taking new work; expire the grace period ``grace_s`` from now. Idempotent."""
        if self.draining:
            return
        self.draining = True
        log.info("draining", extra={"grace_s": self.grace_s})
        self._timer = asyncio.get_running_loop().call_later(self.grace_s, self._expire)

    def on_expiry(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the grace period ends (at once if it has); return the unregister."""
        if self.expired:
            asyncio.get_running_loop().call_soon(callback)
            return _nothing
        self._callbacks.add(callback)
        return lambda: self._callbacks.discard(callback)

    def _expire(self) -> None:
        self.expired = True
        callbacks, self._callbacks = list(self._callbacks), set()
        if callbacks:
            log.info("grace period over: ending what is still running")
        for callback in callbacks:
            callback()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _nothing() -> None:
    return None
