"""`ServerThread` runs any ASGI app under uvicorn in a daemon thread on loopback (tests, fakes, demo);
`MockLLMServer` / `start_mock` run a `MockLLM` that way and give the base URL for each SDK."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self, cast

import uvicorn
from starlette.types import ASGIApp

from mockllm.app import MockLLM

__all__ = ["MockLLMServer", "ServerThread", "start_mock"]


class ServerThread:
    """uvicorn in a daemon thread. `port=0` binds an ephemeral port; read the real one from `.port`.

    Open streams are cancelled `graceful_shutdown_s` after `stop()`, so a hanging client never blocks it.
    Extra keyword arguments go to `uvicorn.Config`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str | None = None,
        graceful_shutdown_s: float = 0.5,
        **config: Any,
    ) -> None:
        self.host = host
        self._port = port
        # log_config=None: the host process owns logging. uvicorn's default config would replace the
        # gateway's JSON handlers on the shared "uvicorn.*" loggers with plain-text ones on stderr.
        options: dict[str, Any] = {"lifespan": "off", "access_log": False, "log_config": None, **config}
        # uvicorn annotates this as int but hands it to asyncio.wait_for, which takes any float
        grace = cast(int, graceful_shutdown_s)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=grace, **options)
        )
        self._thread = threading.Thread(target=self.server.run, name=f"uvicorn-{host}:{port}", daemon=True)

    def start(self, *, timeout_s: float = 10.0) -> Self:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"uvicorn failed to start on {self.host}:{self._port}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"uvicorn did not start within {timeout_s} s")
            time.sleep(0.005)
        self._port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, *, timeout_s: float = 10.0) -> bool:
        """Ask uvicorn to exit and join the thread; True when it has stopped."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return not self._thread.is_alive()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    def __enter__(self) -> Self:
        return self if self.server.started else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class MockLLMServer(MockLLM):
    """A `MockLLM` serving itself through a `ServerThread`: scripting, recording and URLs in one object."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        chunk_delay_s: float = 0.0,
        chunks: int | None = None,
        api_key: str | None = None,
        **server: Any,
    ) -> None:
        super().__init__(chunk_delay_s=chunk_delay_s, chunks=chunks, api_key=api_key)
        self.thread = ServerThread(self, host=host, port=port, **server)

    def start(self, *, timeout_s: float = 10.0) -> Self:
        self.thread.start(timeout_s=timeout_s)
        return self

    def stop(self, *, timeout_s: float = 10.0) -> bool:
        return self.thread.stop(timeout_s=timeout_s)

    @property
    def port(self) -> int:
        return self.thread.port

    @property
    def url(self) -> str:
        return self.thread.url

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def gemini_base_url(self) -> str:
        return self.url

    def __enter__(self) -> Self:
        return self if self.thread.server.started else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_mock(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    chunk_delay_s: float = 0.0,
    chunks: int | None = None,
    api_key: str | None = None,
    **server: Any,
) -> MockLLMServer:
    """Start a mock LLM upstream in a background thread and return it, running (use `.stop()` or `with`)."""
    mock = MockLLMServer(host=host, port=port, chunk_delay_s=chunk_delay_s, chunks=chunks, api_key=api_key, **server)
    return mock.start()
