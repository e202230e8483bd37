"""A fast fake upstream for OpenAI, Anthropic and Gemini: raw asyncio protocol on uvloop, answers precomputed.

Each protocol's route (bench/wire.py) answers a fixed JSON answer, or an SSE stream when asked for one.
A directive in the prompt, ``[bench chunks=50 gap_ms=10]``, sets the stream's length and the pause
between chunks. Streams with a gap stamp each chunk's text with the moment it was written
(``@<CLOCK_MONOTONIC seconds>@``), so a client on this machine can time every chunk's transit.
Run it with ``python -m bench.upstream --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import Callable
from typing import Final, cast

import uvloop

from bench.wire import WIRES, Protocol, Wire, route

_DIRECTIVE: Final = re.compile(rb"\[bench chunks=(\d+) gap_ms=(\d+(?:\.\d+)?)\]")
_CONTENT_LENGTH: Final = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_CLOSE: Final = re.compile(rb"(?i)\r\nconnection:\s*close")
_NOT_FOUND: Final = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


class _Answers:
    """Whole stream bodies without a gap, built once per protocol and length."""

    def __init__(self) -> None:
        self._streams: dict[tuple[Protocol, int], bytes] = {}

    def stream(self, protocol: Protocol, chunks: int) -> bytes:
        body = self._streams.get((protocol, chunks))
        if body is None:
            w = WIRES[protocol]
            body = w.head + b"".join(w.content(f"tok{i} ") for i in range(chunks)) + w.tail
            self._streams[protocol, chunks] = body
        return body


class UpstreamProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection (clients here never pipeline)."""

    def __init__(self, answers: _Answers) -> None:
        self._answers = answers
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._drip: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but have its interface.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._drip is not None:
            self._drip.cancel()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._drip is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = _CONTENT_LENGTH.search(self._buffer, 0, end + 2)
            size = int(match.group(1)) if match else 0
            if len(self._buffer) < end + 4 + size:
                return
            head = bytes(self._buffer[:end])
            body = bytes(self._buffer[end + 4 : end + 4 + size])
            del self._buffer[: end + 4 + size]
            self._answer(head, body)

    def _answer(self, head: bytes, body: bytes) -> None:
        assert self._transport is not None
        routed = route(head[: head.find(b"\r\n")] if b"\r\n" in head else head, body)
        if routed is None:
            self._transport.write(_NOT_FOUND)
            return
        protocol, stream = routed
        close = _CLOSE.search(head) is not None
        if not stream:
            self._transport.write(WIRES[protocol].json)
            self._finish(close=close)
            return
        directive = _DIRECTIVE.search(body)
        chunks = int(directive.group(1)) if directive else 50
        gap_s = float(directive.group(2)) / 1000 if directive else 0.0
        if gap_s <= 0:
            self._transport.write(self._answers.stream(protocol, chunks))
            self._finish(close=close)
            return
        self._drip = asyncio.get_running_loop().create_task(self._dripping(WIRES[protocol], chunks, gap_s))
        self._drip.add_done_callback(lambda _task: self._drip_done(close=close))

    async def _dripping(self, wire: Wire, chunks: int, gap_s: float) -> None:
        write: Callable[[bytes], None] = self._transport.write if self._transport else _gone
        write(wire.head)
        for i in range(chunks):
            if i:
                await asyncio.sleep(gap_s)
            if self._transport is None:
                return
            write(wire.content(f"@{time.monotonic():.6f}@ "))
        write(wire.tail)

    def _drip_done(self, *, close: bool) -> None:
        self._drip = None
        self._finish(close=close)
        if self._buffer and self._transport is not None:
            self.data_received(b"")

    def _finish(self, *, close: bool) -> None:
        if close and self._transport is not None:
            self._transport.close()


def _gone(_data: bytes) -> None:
    """Write target for a connection that closed before the stream began."""


async def serve(*, host: str, port: int) -> None:
    answers = _Answers()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: UpstreamProtocol(answers), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(host=args.host, port=args.port))


if __name__ == "__main__":
    main()
