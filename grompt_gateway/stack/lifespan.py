"""ASGI lifespan for Django, which has none: start the shared clients before the first request and
close them after the last; and start-up without the cyclic garbage collector (``collector_paused``,
``freeze_start_up``)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("grompt_gateway.lifespan")


class Lifespan:
    """Answer ``lifespan`` messages with ``on_startup`` / ``on_shutdown``; pass everything else on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_startup: Callable[[], Awaitable[None]],
        on_shutdown: Callable[[], Awaitable[None]],
    ) -> None:
        self.app = app
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.on_startup()
                except Exception as exc:
                    log.error("startup failed", exc_info=exc)
                    await send({"type": "lifespan.startup.failed", "message": type(exc).__name__})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off, then restore it as it was.

    Start-up (importing Django, Ninja and the SDKs: ~4,700 modules, ~300,000 objects that live as long
    as the process) allocates so much that the collector ran dozens of times, walking ever more
    objects that are never garbage: ~20 % of the import time (bench/README.md). What it built is then
    frozen (``freeze_start_up``).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_frozen_once = False


def freeze_start_up() -> None:
    """Move every object tracked so far out of the collector's reach (``gc.freeze()``): what start-up built
    lives as long as the process, and full passes over it stalled every request in flight (~90 ms each).

    The first time in a process, without a collection first: the garbage start-up leaves (~2,000 objects
    of class building; +0.3-1.0 MB of idle RSS, measured) costs less kept than found, by a full pass over
    ~300,000 objects (~0.1-0.2 s of start-up). Later calls (tests start many gateways in one process) collect first, so
    the garbage of what ran in between is not kept.
    """
    global _frozen_once
    if _frozen_once:
        gc.collect()
    _frozen_once = True
    gc.freeze()
