"""SSE framing and the relay from a provider stream to the socket (docs/api.md § The event stream).

One producer task reads the provider stream into a small queue; the response body reads the queue.
That gives, without a task or timer per chunk: chunks written the moment they arrive, ``: ping``
after ``SSE_HEARTBEAT_S`` of silence, errors before the first byte as real HTTP statuses, and, when
the client leaves, the producer (and with it the provider's HTTP request) cancelled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from grompt_gateway.drain import Drain, shutting_down
from grompt_gateway.http_errors import error_event
from guards.token_estimate import text_weight
from llm.errors import GatewayError
from llm.ports import GenStream

log = logging.getLogger("grompt_gateway.sse")

PING: Final = b": ping\n\n"
SSE_HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}
_QUEUE_SIZE: Final = 64


class _End:
    """Queue marker: the provider stream is exhausted."""


_END: Final = _End()


@dataclass(frozen=True, slots=True)
class _Start:
    """The ``start`` event, built when the first chunk arrived."""

    event: dict[str, Any]

_TICK: Final = object()


class EventWriter:
    """Frame events as ``id: <requestId>:<n>`` + one ``data:`` JSON line (no ``event:`` field)."""

    __slots__ = ("_n", "_prefix")

    def __init__(self, request_id: str) -> None:
        self._prefix = f"id: {request_id}:".encode()
        self._n = 0

    def event(self, data: dict[str, Any]) -> bytes:
        self._n += 1
        return b"%s%d\ndata: %s\n\n" % (self._prefix, self._n, orjson.dumps(data))

    def error(self, exc: GatewayError) -> bytes:
        return self.event(error_event(exc))


# Chunks held by a report before they are weighed together: bounds what a long stream keeps alive.
_WEIGH_EVERY: Final = 32


@dataclass(slots=True)
class StreamReport:
    """What the relay observed, for metrics and the access line."""

    first_chunk_s: float | None = None
    cancelled: bool = False
    error: GatewayError | None = None
    # The stream ended with the provider's last event (``done`` was sent).
    completed: bool = False
    # The text the provider produced, sent to the client or not: chunks not yet weighed (the relay appends,
    # nothing else per chunk), and the ``text_weight`` of those already weighed.
    unweighed: list[str] = field(default_factory=list)
    weighed: int = 0

    def weigh(self) -> None:
        """Fold the chunks held so far into ``weighed``: one ``text_weight`` for many chunks."""
        if self.unweighed:
            self.weighed += text_weight("".join(self.unweighed))
            self.unweighed.clear()

    @property
    def produced_weight(self) -> int:
        """``text_weight`` of all the text the provider produced (additive: the chunks' weights summed),
        computed when asked for: only a stream that ended without reported usage asks."""
        self.weigh()
        return self.weighed


class Relay:
    """Pump ``stream`` into a queue from its own task; ``sse_body`` relays it from ``batches()``."""

    def __init__(self, stream: GenStream, *, heartbeat_s: float, started: float, drain: Drain | None = None) -> None:
        self.stream = stream
        self.heartbeat_s = heartbeat_s
        self.started = started
        self.report = StreamReport()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE_SIZE)
        self._producer = asyncio.create_task(self._pump())
        owner = asyncio.current_task()
        if owner is not None:
            # A body that is never iterated (the client left between the view's return and the first write)
            # never runs ``sse_body``'s cleanup: the end of the request's task stops the provider call anyway.
            owner.add_done_callback(self._owner_done)
        self._loop = asyncio.get_running_loop()
        self._last_activity = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None
        self._stop: GatewayError | None = None  # set when the shutdown grace period ends
        self._over: Callable[[StreamReport], None] | None = None
        self._relaying = False
        self._unwatch = drain.on_expiry(self._shut_down) if drain is not None else None

    def _shut_down(self) -> None:
        """Grace period over: cancel the provider call now and end the stream with ``shutting_down``."""
        self._stop = shutting_down()
        self._producer.cancel()
        if not self._queue.full():  # else the consumer is busy writing and sees ``_stop`` next round
            self._queue.put_nowait(self._stop)

    async def _pump(self) -> None:
        try:
            produced, queue = self.report.unweighed, self._queue
            async for chunk in self.stream:
                produced.append(chunk)
                if len(produced) >= _WEIGH_EVERY:  # bounds what a long stream keeps alive
                    self.report.weigh()
                if queue.full():  # the client reads slower than the provider writes: wait for room
                    await queue.put(chunk)
                else:  # what ``put`` does then, without a coroutine per chunk
                    queue.put_nowait(chunk)
            await self._queue.put(_END)
        except GatewayError as exc:
            await self._queue.put(exc)
        except Exception as exc:
            log.error("stream failed", exc_info=exc)
            await self._queue.put(GatewayError("stream failed"))
        finally:
            await self.stream.aclose()

    async def first(self, *, commit_window_s: float) -> Any:
        """Wait up to ``commit_window_s`` for the first item; raise its error so it becomes a real
        HTTP status. Return the item, or ``None`` when the window passed (commit the 200 anyway)."""
        # Not ``asyncio.wait_for``: on Python 3.11 it returns the item and drops the cancellation when the client
        # leaves in the same loop turn as the first chunk arrives, and the upstream call then runs on unseen.
        try:
            async with asyncio.timeout(commit_window_s):
                item = await self._queue.get()
        except TimeoutError:
            return None
        if isinstance(item, GatewayError):
            raise item
        return item

    async def batches(self, first: Any) -> AsyncIterator[list[Any]]:
        """Yield what has arrived, oldest first: chunks (``str``), ``_TICK`` for heartbeats, and last
        ``_END`` or a ``GatewayError``. Items already queued leave together, so a burst of chunks costs
        one write to the socket, while a chunk that arrives alone still leaves at once."""
        self._relaying = True
        batch = [] if first is None else [first]
        if self.heartbeat_s > 0:
            self._arm_heartbeat()
        try:
            while True:
                if not batch:
                    batch.append(await self._queue.get())
                while not _final(batch[-1]) and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                if self._stop is not None and not _final(batch[-1]):
                    batch.append(self._stop)
                self._last_activity = self._loop.time()
                yield batch
                if _final(batch[-1]):
                    return
                batch = []
        finally:
            if self._timer is not None:
                self._timer.cancel()

    def _arm_heartbeat(self) -> None:
        # One timer per stream, re-armed from the last activity: no timer work per chunk.
        self._timer = self._loop.call_at(self._last_activity + self.heartbeat_s, self._beat)

    def _beat(self) -> None:
        now = self._loop.time()
        if now - self._last_activity >= self.heartbeat_s * 0.99 and not self._queue.full():
            self._queue.put_nowait(_TICK)
            self._last_activity = now  # a ping is activity too: the next one is due a full interval later
        self._arm_heartbeat()

    def when_over(self, callback: Callable[[StreamReport], None]) -> None:
        """Call ``callback`` with the report once the stream is over, however it ended: relayed to its end,
        cut, or never relayed at all because the request ended first."""
        self._over = callback

    def over(self) -> None:
        callback, self._over = self._over, None
        if callback is not None:
            callback(self.report)

    def _owner_done(self, owner: asyncio.Task[Any]) -> None:
        self._producer.cancel()
        if not self._relaying:  # the body never ran, nor its cleanup: settle and count the stream here
            self.report.cancelled = True
            self.over()

    async def aclose(self) -> None:
        """Stop the provider call now (client gone, or relay finished)."""
        if self._unwatch is not None:
            self._unwatch()
        if not self._producer.done():
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer


async def sse_body(
    relay: Relay,
    *,
    first: Any,
    writer: EventWriter,
    start_event: Callable[[], dict[str, Any]],
    before_last: Callable[[StreamReport], Awaitable[None]] | None = None,
) -> AsyncIterator[bytes]:
    """The response body: ``start``, ``chunk``…, then ``done`` or ``error``; pings while idle.

    ``start`` leaves with the first chunk (or ``done``, for an empty answer), built then, so it names the
    provider that produced it: a fallback may still happen after the 200 was committed. A stream committed
    before its first chunk opens with ``: ping``; one that fails before any chunk sends ``error`` alone.
    ``before_last`` runs before the write that ends the stream (so what the client then asks sees it),
    the relay's ``when_over`` callback once the body is over, however it ended.
    """
    if first is None:  # nothing arrived within the commit window: open the stream now
        yield PING
    started = False
    try:
        async for batch in relay.batches(first):
            if not started:
                started, batch = _with_start(batch, start_event)
            data = b"".join([_encode(item, relay=relay, writer=writer) for item in batch])
            if before_last is not None and _final(batch[-1]):
                await before_last(relay.report)
            yield data
    except asyncio.CancelledError:
        relay.report.cancelled = True
        raise
    finally:
        await relay.aclose()
        relay.over()


def _with_start(batch: list[Any], start_event: Callable[[], dict[str, Any]]) -> tuple[bool, list[Any]]:
    """Put a ``_Start`` before the batch's first chunk (or ``_END``); tell whether it did."""
    for index, item in enumerate(batch):
        if isinstance(item, str) or item is _END:
            return True, [*batch[:index], _Start(start_event()), *batch[index:]]
    return False, batch


def _final(item: Any) -> bool:
    return item is _END or isinstance(item, GatewayError)


def _encode(item: Any, *, relay: Relay, writer: EventWriter) -> bytes:
    if isinstance(item, str):
        if relay.report.first_chunk_s is None:
            relay.report.first_chunk_s = time.perf_counter() - relay.started
        return writer.event({"type": "chunk", "text": item})
    if item is _TICK:
        return PING
    if isinstance(item, _Start):
        return writer.event(item.event)
    if item is _END:
        relay.report.completed = True
        usage = relay.stream.usage
        return writer.event({"type": "done", "finishReason": relay.stream.finish_reason,
                             "usage": usage.to_json() if usage else None})
    relay.report.error = item
    return writer.error(item)
