"""A small asyncio SSE client that times streams chunk by chunk.

The fake upstream stamps each chunk with the CLOCK_MONOTONIC moment it wrote it (``@<s>@``); this
client notes the moment each stamp arrives. Both run on this machine, so ``arrival - stamp`` is the
chunk's transit time, whatever the upstream's own timer jitter: the gateway's added delay per chunk is
its transit minus the direct upstream's, and the cadence distortion is how much a chunk's gap grew or
shrank on the way, ``|transit_i - transit_(i-1)|``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from bench.targets import API_KEY, Target

_STAMP: Final = re.compile(rb"@(\d+\.\d{6})@")
_READ_BYTES: Final = 65_536


@dataclass(slots=True)
class StreamSample:
    """One stream as the client saw it. Times in ms; ``ok`` is a 200 with every stamped chunk."""

    ok: bool = False
    ttfc_ms: float | None = None
    total_ms: float | None = None
    transit_ms: list[float] = field(default_factory=list)

    def cadence_ms(self) -> list[float]:
        return [abs(b - a) for a, b in zip(self.transit_ms, self.transit_ms[1:], strict=False)]


def _request(target: Target, body: bytes) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in target.headers)
    return (
        f"POST {target.path(stream=True)} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"{extra}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


async def one_stream(
    target: Target, *, body: bytes, expect_chunks: int, on_first: Callable[[], None] | None = None
) -> StreamSample:
    """Send one stream request on a fresh connection and read it to the end."""
    sample = StreamSample()
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    try:
        started = time.monotonic()
        writer.write(_request(target, body))
        buffer = bytearray()
        scanned = 0
        while data := await reader.read(_READ_BYTES):
            now = time.monotonic()
            buffer += data
            for match in _STAMP.finditer(buffer, max(scanned - 24, 0)):
                if match.end() <= scanned:
                    continue
                sample.transit_ms.append((now - float(match.group(1))) * 1000)
                if sample.ttfc_ms is None:
                    sample.ttfc_ms = (now - started) * 1000
                    if on_first is not None:
                        on_first()
            scanned = len(buffer)
        sample.total_ms = (time.monotonic() - started) * 1000
        sample.ok = buffer.startswith(b"HTTP/1.1 200") and len(sample.transit_ms) == expect_chunks
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return sample


async def timed_streams(
    target: Target, *, concurrency: int, streams: int, chunks: int, gap_ms: float, timeout_s: float
) -> list[StreamSample]:
    """Run ``streams`` streams, ``concurrency`` at a time; return every sample."""
    body = target.stream_body(chunks=chunks, gap_ms=gap_ms)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(streams):
        queue.put_nowait(i)
    samples: list[StreamSample] = []

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            samples.append(await one_stream(target, body=body, expect_chunks=chunks))

    async with asyncio.timeout(timeout_s):
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


async def hold_open(
    target: Target, *, count: int, chunks: int, gap_ms: float, open_timeout_s: float,
    while_open: Callable[[int], float],
) -> tuple[int, float]:
    """Open ``count`` slow streams; once all delivered a first chunk (or the time is up), call
    ``while_open(opened)``, then close them all. Return (streams opened, what ``while_open`` measured)."""
    body = target.stream_body(chunks=chunks, gap_ms=gap_ms)
    opened = 0
    all_open = asyncio.Event()

    def first() -> None:
        nonlocal opened
        opened += 1
        if opened == count:
            all_open.set()

    tasks = [asyncio.create_task(one_stream(target, body=body, expect_chunks=chunks, on_first=first))
             for _ in range(count)]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_open.wait(), open_timeout_s)
        await asyncio.sleep(0.5)  # let the servers settle what they allocate per stream
        measured = while_open(opened)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return opened, measured
