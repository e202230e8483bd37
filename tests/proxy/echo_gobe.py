"""A fake GoBE: a raw ASGI app that records every request it receives (method, raw path, query, headers,
body length and sha256, never the body itself) and answers according to the path's first segment:

    /status/<code>        that status, a small JSON body, and headers the proxy must drop or keep
    /slow/<seconds>       wait before answering (headers late)
    /stall/<seconds>      headers and one chunk at once, then wait (body late)
    /cut                  promise 1000 bytes, send 10, then break the connection
    /download/<bytes>     stream that many deterministic bytes with Content-Length
    /huge/<bytes>         that many bytes in one single body message
    /html                 200 ``text/html`` (a web server's page where JSON was expected)
    /silence/<seconds>    the response head, then nothing at all for that long
    anything else         200 with a JSON echo of the request

``ResetServer`` is a raw TCP listener that resets every connection, for "GoBE reset the connection".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

CHUNK_BYTES = 64 * 1024
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>\n"


def pattern(size: int) -> bytes:
    """Deterministic, incompressible-looking bytes of any length."""
    block = hashlib.sha256(b"gobe").digest() * (CHUNK_BYTES // 32)
    return (block * (size // len(block) + 1))[:size]


@dataclass
class Seen:
    method: str
    raw_path: str
    query: str
    headers: list[tuple[str, str]]
    body_bytes: int
    body_sha256: str
    completed: bool = True
    first_byte_at: float | None = None  # time.monotonic() when the first body byte arrived

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def header_names(self) -> set[str]:
        return {k for k, _ in self.headers}


@dataclass
class EchoGoBE:
    seen: list[Seen] = field(default_factory=list)
    downloads_cut: int = 0  # downloads whose reader went away before the end
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.downloads_cut = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        record = await self._read(scope, receive)
        with self.lock:
            self.seen.append(record)
        if not record.completed:
            return
        path: str = scope["path"]
        head, *rest = [*path.removeprefix("/api").strip("/").split("/"), ""]
        if head == "status" and int(rest[0]) in (204, 304):
            await _start(send, int(rest[0]), [(b"etag", b'"v1"')])
            await send({"type": "http.response.body", "body": b""})
        elif head == "status":
            await _answer(send, int(rest[0]), {"gobe": "status"}, extra=_EXTRA_HEADERS)
        elif head == "slow":
            await asyncio.sleep(float(rest[0]))
            await _answer(send, 200, {"gobe": "slow"})
        elif head == "stall":
            await _start(send, 200, [(b"content-length", b"100")])
            await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
            await asyncio.sleep(float(rest[0]))
        elif head == "cut":
            await _start(send, 200, [(b"content-length", b"1000")])
            await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
            raise ConnectionAbortedError("cut on purpose")  # uvicorn closes the connection
        elif head == "huge":
            payload = pattern(int(rest[0]))
            await _start(send, 200, [(b"content-type", b"application/octet-stream"),
                                     (b"content-length", str(len(payload)).encode())])
            await send({"type": "http.response.body", "body": payload})
        elif head == "html":
            await _start(send, 200, [(b"content-type", b"text/html"), (b"content-length", str(len(HTML)).encode())])
            await send({"type": "http.response.body", "body": HTML})
        elif head == "silence":
            await _start(send, 200, [(b"content-type", b"application/json"), (b"content-length", b"100")])
            await asyncio.sleep(float(rest[0]))
        elif head == "download":
            if not await _download(send, receive, size=int(rest[0])):
                with self.lock:
                    self.downloads_cut += 1
        elif rest[0] == "hop-by-hop":  # GoBE names its own hop-by-hop headers in Connection
            await _answer(send, 200, _echo(record), extra=[
                *_EXTRA_HEADERS, (b"connection", b"X-Gobe-Hop, etag"), (b"x-gobe-hop", b"1")])
        else:
            await _answer(send, 200, _echo(record), extra=_EXTRA_HEADERS)

    @staticmethod
    async def _read(scope: Scope, receive: Receive) -> Seen:
        digest, size, more, completed, first_byte_at = hashlib.sha256(), 0, True, True, None
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                more, completed = False, False
                break
            chunk = message.get("body", b"")
            if chunk and first_byte_at is None:
                first_byte_at = time.monotonic()
            digest.update(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        return Seen(
            method=scope["method"], raw_path=scope["raw_path"].decode("latin-1"),
            query=scope["query_string"].decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body_bytes=size, body_sha256=digest.hexdigest(), completed=completed, first_byte_at=first_byte_at,
        )


# Headers GoBE sends that the proxy must drop (hop-by-hop, ours, CORS, cookies) or keep (the rest).
_EXTRA_HEADERS = [
    (b"set-cookie", b"session=abc; Path=/; HttpOnly"), (b"set-cookie", b"theme=dark; Path=/"),
    (b"keep-alive", b"timeout=5"), (b"x-request-id", b"gobe-own-id"),
    (b"access-control-allow-origin", b"*"), (b"etag", b'"v1"'), (b"x-gobe-trace", b"t-1"),
    (b"cache-control", b"no-store"),
]


def _echo(record: Seen) -> dict[str, Any]:
    return {"method": record.method, "path": record.raw_path, "query": record.query,
            "bytes": record.body_bytes, "sha256": record.body_sha256}


async def _start(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _answer(send: Send, status: int, body: dict[str, Any], *,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await _start(send, status, headers + (extra or []))
    await send({"type": "http.response.body", "body": payload})


async def _download(send: Send, receive: Receive, *, size: int) -> bool:
    """Stream ``size`` bytes; False when the reader left first (uvicorn's send() would not say)."""
    gone = asyncio.ensure_future(receive())  # the request is read: the next message is the disconnect
    await _start(send, 200, [(b"content-type", b"application/octet-stream"),
                             (b"content-length", str(size).encode())])
    block = pattern(CHUNK_BYTES)
    sent = 0
    try:
        while sent < size:
            if gone.done():
                return False
            chunk = block[: min(CHUNK_BYTES, size - sent)]
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": sent < size})
        return True
    finally:
        gone.cancel()


class ResetServer:
    """Accept connections on loopback and reset each one (SO_LINGER 0) after reading a little."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.settimeout(1)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def __enter__(self) -> ResetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
