"""A fast fake OpenAI upstream: raw asyncio protocol on uvloop, answers precomputed where it can.

``POST …/chat/completions`` answers a fixed completion, or with ``"stream": true`` an SSE stream.
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

import orjson
import uvloop

_DIRECTIVE: Final = re.compile(rb"\[bench chunks=(\d+) gap_ms=(\d+(?:\.\d+)?)\]")
_STREAM: Final = re.compile(rb'"stream"\s*:\s*true')
_CONTENT_LENGTH: Final = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
_CLOSE: Final = re.compile(rb"(?i)\r\nconnection:\s*close")
_MODEL: Final = "gpt-4o-mini"
_USAGE: Final = {"prompt_tokens": 12, "completion_tokens": 50, "total_tokens": 62}

_COMPLETION: Final = orjson.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": _MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the bench upstream."},
                 "finish_reason": "stop", "logprobs": None}],
    "usage": _USAGE,
})
JSON_RESPONSE: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (len(_COMPLETION), _COMPLETION)
)
_NOT_FOUND: Final = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
_SSE_HEAD: Final = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _frame(event: bytes) -> bytes:
    """One HTTP/1.1 chunk holding one SSE event."""
    return b"%x\r\n%s\r\n" % (len(event), event)


def _event(choices: list[object], **extra: object) -> bytes:
    chunk = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
             "model": _MODEL, "choices": choices, **extra}
    return _frame(b"data: %s\n\n" % orjson.dumps(chunk))


def content_frame(text: str) -> bytes:
    return _event([{"index": 0, "delta": {"content": text}, "finish_reason": None}])


HEAD_FRAMES: Final = _SSE_HEAD + _event([{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}])
TAIL_FRAMES: Final = (
    _event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    + _event([], usage=_USAGE)
    + _frame(b"data: [DONE]\n\n")
    + b"0\r\n\r\n"
)


class _Answers:
    """Whole stream bodies without a gap, built once per length."""

    def __init__(self) -> None:
        self._streams: dict[int, bytes] = {}

    def stream(self, chunks: int) -> bytes:
        body = self._streams.get(chunks)
        if body is None:
            body = HEAD_FRAMES + b"".join(content_frame(f"tok{i} ") for i in range(chunks)) + TAIL_FRAMES
            self._streams[chunks] = body
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
        if not head.startswith(b"POST ") or b"/chat/completions" not in head[: head.find(b"\r\n")]:
            self._transport.write(_NOT_FOUND)
            return
        close = _CLOSE.search(head) is not None
        if not _STREAM.search(body):
            self._transport.write(JSON_RESPONSE)
            self._finish(close=close)
            return
        directive = _DIRECTIVE.search(body)
        chunks = int(directive.group(1)) if directive else 50
        gap_s = float(directive.group(2)) / 1000 if directive else 0.0
        if gap_s <= 0:
            self._transport.write(self._answers.stream(chunks))
            self._finish(close=close)
            return
        self._drip = asyncio.get_running_loop().create_task(self._dripping(chunks, gap_s))
        self._drip.add_done_callback(lambda _task: self._drip_done(close=close))

    async def _dripping(self, chunks: int, gap_s: float) -> None:
        write: Callable[[bytes], None] = self._transport.write if self._transport else _gone
        write(HEAD_FRAMES)
        for i in range(chunks):
            if i:
                await asyncio.sleep(gap_s)
            if self._transport is None:
                return
            write(content_frame(f"@{time.monotonic():.6f}@ "))
        write(TAIL_FRAMES)

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
