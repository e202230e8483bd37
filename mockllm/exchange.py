"""Plays one prepared reply (`Plan`) over ASGI: delays, hangs, stalls, resets, in-band errors, and
notices the client leaving by listening to `receive()` (uvicorn silently drops sends after a disconnect)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from starlette.types import Receive, Send

from mockllm.recorder import Outcome, RecordedRequest, Recorder
from mockllm.wire import Frames, Headers

__all__ = ["Plan", "play"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    status: int
    headers: Headers  # content-type included
    body: bytes = b""  # the whole body of a non-stream reply (JSON answer or error)
    frames: Frames | None = None  # set for a stream
    delay_s: float = 0.0
    gap_s: float = 0.0
    hang: bool = False
    silence: bool = False  # send the head, then nothing until the client leaves
    stall_after: int | None = None
    reset_after: int | None = None
    error_after: int | None = None

    @property
    def instant(self) -> bool:
        return (
            self.frames is None
            and not self.hang
            and not self.silence
            and self.delay_s <= 0
            and self.stall_after is None
            and self.reset_after is None
        )


async def play(*, plan: Plan, send: Send, receive: Receive, entry: RecordedRequest, recorder: Recorder) -> None:
    """Send `plan`, then record how it ended (a disconnect wins over anything unfinished)."""
    if plan.instant:
        await _start(send, plan=plan, entry=entry, length=len(plan.body))
        await _send_last(send, plan.body, outcome=_outcome(plan), entry=entry, recorder=recorder)
        return
    performer = asyncio.ensure_future(_perform(plan=plan, send=send, entry=entry, recorder=recorder))
    watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait((performer, watcher), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # server shutting down while we hang or stall
        if entry.outcome == "pending":
            recorder.finish(entry, outcome="stalled")
        raise
    finally:
        performer.cancel()
        watcher.cancel()
    if performer.done() and not performer.cancelled():
        outcome = performer.result()
        if entry.outcome == "pending":
            recorder.finish(entry, outcome=outcome)
    else:
        recorder.finish(entry, outcome="cancelled", disconnected_s=watcher.result())


async def _wait_for_disconnect(receive: Receive) -> float:
    while (await receive())["type"] != "http.disconnect":
        pass
    return time.monotonic()


async def _start(send: Send, *, plan: Plan, entry: RecordedRequest, length: int | None) -> None:
    headers = plan.headers if length is None else [*plan.headers, (b"content-length", str(length).encode())]
    entry.headers_sent_s = time.monotonic()
    await send({"type": "http.response.start", "status": plan.status, "headers": headers})


async def _send_last(
    send: Send, body: bytes, *, outcome: Outcome, entry: RecordedRequest, recorder: Recorder
) -> Outcome:
    """Record first: a client may act on the last byte before this coroutine resumes."""
    recorder.finish(entry, outcome=outcome)
    await send({"type": "http.response.body", "body": body})
    return outcome


def _outcome(plan: Plan) -> Outcome:
    return "completed" if plan.status < 400 else "error"


async def _forever() -> None:
    await asyncio.get_running_loop().create_future()


async def _perform(*, plan: Plan, send: Send, entry: RecordedRequest, recorder: Recorder) -> Outcome:
    if plan.hang:
        await _forever()
    if plan.delay_s > 0:
        await asyncio.sleep(plan.delay_s)
    if plan.frames is not None:
        await _start(send, plan=plan, entry=entry, length=None)
        if plan.silence:
            await _forever()
        return await _stream(plan.frames, plan=plan, send=send, entry=entry, recorder=recorder)
    await _start(send, plan=plan, entry=entry, length=len(plan.body))
    if plan.silence:
        await _forever()
    cut = plan.reset_after if plan.reset_after is not None else plan.stall_after
    if cut is None:
        return await _send_last(send, plan.body, outcome=_outcome(plan), entry=entry, recorder=recorder)
    await send({"type": "http.response.body", "body": plan.body[: len(plan.body) // 2], "more_body": True})
    if plan.reset_after is None:
        await _forever()
    return "reset"  # returning with the body incomplete makes uvicorn close the connection


async def _stream(frames: Frames, *, plan: Plan, send: Send, entry: RecordedRequest, recorder: Recorder) -> Outcome:
    if frames.head:
        await send({"type": "http.response.body", "body": frames.head, "more_body": True})
    last = len(frames.chunks)
    stall_at, reset_at, error_at = (_clamp(n, last) for n in (plan.stall_after, plan.reset_after, plan.error_after))
    for index in range(last + 1):
        if index == stall_at:
            await _forever()
        if index == reset_at:
            return "reset"
        if index == error_at:
            return await _send_last(send, frames.error, outcome="midstream_error", entry=entry, recorder=recorder)
        if index == last:
            break
        if plan.gap_s > 0:
            await asyncio.sleep(plan.gap_s)
        entry.chunks_sent += 1
        await send({"type": "http.response.body", "body": frames.chunks[index], "more_body": True})
    return await _send_last(send, frames.tail, outcome="completed", entry=entry, recorder=recorder)


def _clamp(count: int | None, last: int) -> int | None:
    """A chunk count past the end of the answer means "just before the end"."""
    return None if count is None else min(max(count, 0), last)
