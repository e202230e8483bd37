"""A real gateway for tests: ``GatewayApplication`` served by the Django adapter (uvicorn) on an
ephemeral loopback port, in a thread with its own event loop, so tests may be sync or async."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from grompt_gateway.application import GatewayApplication
from grompt_gateway.config import GatewaySettings
from grompt_gateway.server.django_adapter import DjangoHttpServer
from grompt_gateway.v1.api import api


class GatewayThread:
    def __init__(self, settings: GatewaySettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.app = GatewayApplication(settings, clock=clock)
        self.server = DjangoHttpServer(api=api, app=self.app, graceful_shutdown_s=1)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        await self.server.start()
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()

    def start(self, timeout_s: float = 60.0) -> GatewayThread:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("gateway did not start")
        if self._error is not None:
            raise RuntimeError("gateway failed to start") from self._error
        return self

    def call_soon(self, callback: Callable[[], object], timeout_s: float = 5.0) -> None:
        """Run ``callback`` on the gateway's event loop and wait until it has run."""
        assert self._loop is not None
        done: Future[None] = Future()

        def run() -> None:
            callback()
            done.set_result(None)

        self._loop.call_soon_threadsafe(run)
        done.result(timeout=timeout_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def settings(**overrides: Any) -> GatewaySettings:
    """Test settings: no rate limit unless asked, so unrelated tests never trip it."""
    return GatewaySettings(**{"rate_limit_rps": 0.0, **overrides})
