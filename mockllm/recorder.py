"""What the mock received and how each exchange ended; thread-safe (uvicorn thread writes, tests read)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mockllm.scenario import Scenario

__all__ = ["Outcome", "RecordedRequest", "Recorder"]

Outcome = Literal["pending", "completed", "error", "cancelled", "reset", "midstream_error", "stalled"]


@dataclass(slots=True, kw_only=True)
class RecordedRequest:
    """One request. Fields after `arrived_s` are filled in by the server as the exchange goes on.

    `outcome` is "cancelled" when the client went away before the answer was complete (see
    `disconnected_s`), "stalled" when the mock stalled and the server stopped first.
    """

    seq: int
    provider: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    arrived_s: float
    stream: bool = False
    model: str | None = None
    scenario: Scenario | None = None
    status: int | None = None
    outcome: Outcome = "pending"
    chunks_sent: int = 0
    headers_sent_s: float | None = None
    finished_s: float | None = None
    disconnected_s: float | None = None

    @property
    def disconnected(self) -> bool:
        return self.disconnected_s is not None


@dataclass(slots=True)
class Recorder:
    _requests: list[RecordedRequest] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _seq: int = 0

    def record(self, **request: Any) -> RecordedRequest:
        with self._changed:
            self._seq += 1
            entry = RecordedRequest(seq=self._seq, arrived_s=time.monotonic(), **request)
            self._requests.append(entry)
            self._changed.notify_all()
        return entry

    def finish(self, entry: RecordedRequest, *, outcome: Outcome, disconnected_s: float | None = None) -> None:
        with self._changed:
            entry.outcome = outcome
            entry.finished_s = time.monotonic()
            entry.disconnected_s = disconnected_s
            self._changed.notify_all()

    def reset(self) -> None:
        with self._changed:
            self._requests.clear()
            self._seq = 0
            self._changed.notify_all()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._changed:
            return list(self._requests)

    def requests_for(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    @property
    def disconnects(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.disconnected_s is not None]

    @property
    def streams_completed(self) -> int:
        return sum(1 for r in self.requests if r.stream and r.outcome == "completed")

    @property
    def streams_cancelled(self) -> int:
        return sum(1 for r in self.requests if r.stream and r.outcome == "cancelled")

    def wait_for_disconnect(self, *, timeout_s: float, count: int = 1) -> bool:
        """Block until at least `count` requests saw their client go away; False on timeout."""
        return self._wait(lambda: len(self.disconnects) >= count, timeout_s=timeout_s)

    async def wait_for_disconnect_async(self, *, timeout_s: float, count: int = 1) -> bool:
        """Like `wait_for_disconnect`, without blocking the caller's event loop (which may be the one
        that has to deliver the cancellation)."""
        deadline = time.monotonic() + timeout_s
        while len(self.disconnects) < count:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def wait_for_requests(self, *, count: int, timeout_s: float) -> bool:
        """Block until at least `count` requests have arrived; False on timeout."""
        return self._wait(lambda: len(self._requests) >= count, timeout_s=timeout_s)

    def wait_until_finished(self, *, timeout_s: float) -> bool:
        """Block until every recorded exchange has an outcome; False on timeout."""
        return self._wait(lambda: all(r.outcome != "pending" for r in self._requests), timeout_s=timeout_s)

    def _wait(self, predicate: Callable[[], bool], *, timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout=timeout_s)
