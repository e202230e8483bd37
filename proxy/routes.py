"""``ProxyRoute``: the raw ASGI route for ``/v1/proxy/*`` placed in front of Django, streaming both ways.

Django reads a whole request body before any view runs, so the proxy lives here: the
upload goes from ``receive()`` straight into httpx, the answer from ``aiter_raw()`` straight to ``send``.
Errors are raised before ``http.response.start`` and rendered by whatever wraps us (the gateway's access layer).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Final, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send  # the ASGI 3 callable shape

from llm.errors import GatewayError, InvalidRequest
from proxy.allow import AllowList, normalise_path
from proxy.client import GoBEClient
from proxy.errors import GoBENotConfigured, ProxyBodyTooLarge, ProxyMethodNotAllowed

PREFIX: Final = "/v1/proxy"
METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Annotate(Protocol):
    def __call__(self, **fields: Any) -> None: ...


def _ignore(**fields: Any) -> None:
    return None


class _ClientGone(Exception):
    """The client disconnected; nobody is left to answer."""


class ProxyRoute:
    """Serve ``/v1/proxy`` and ``/v1/proxy/<path>`` from GoBE; pass every other request to ``app``.

    ``OPTIONS`` goes to ``app`` too, so CORS preflights get the gateway's one CORS policy.
    ``annotate`` adds fields to the request's access line (never bodies, credentials or cookies).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        gobe: Callable[[], GoBEClient | None],
        allow: Iterable[str],
        max_body_bytes: int,
        annotate: Annotate = _ignore,
    ) -> None:
        self.app = app
        self.gobe = gobe
        self.allow = AllowList(allow)
        self.max_body_bytes = max_body_bytes
        self.annotate = annotate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or not (
            path == PREFIX or path.startswith(PREFIX + "/")
        ):
            await self.app(scope, receive, send)
            return
        body = _RequestBody(receive, limit_bytes=self.max_body_bytes)
        try:
            await self._proxy(scope, body, send)
        except _ClientGone:
            return  # the access layer logs it as 499
        finally:
            self.annotate(bytes_in=body.received_bytes)

    async def _proxy(self, scope: Scope, body: _RequestBody, send: Send) -> None:
        gobe, path = self._check(scope)
        headers = gobe.request_headers(
            scope["headers"], client_ip=(scope.get("client") or (None,))[0], scheme=scope["scheme"],
            request_id=scope.get("grompt.request_id") or uuid.uuid4().hex,
        )
        url = gobe.url(path, query=scope.get("query_string", b""))
        started = time.perf_counter()
        upstream = await gobe.open(method=scope["method"], url=url, headers=headers,
                                   body=body if _has_body(scope) else None)
        self.annotate(upstream_status=upstream.status_code,
                      upstream_ms=round((time.perf_counter() - started) * 1000, 2))
        try:
            await send({"type": "http.response.start", "status": upstream.status_code,
                        "headers": gobe.response_headers(upstream)})
            await _relay(gobe.body(upstream), receive=body.receive, send=send)
        except GatewayError as exc:
            # Too late for an error answer: the client sees a cut connection, the log sees why.
            self.annotate(upstream_error=type(exc.__cause__ or exc).__name__)
            raise
        finally:
            await upstream.aclose()

    def _check(self, scope: Scope) -> tuple[GoBEClient, str]:
        """Refuse what must never reach GoBE (405, 400, 403, 503, 413); return the client and path."""
        if scope["method"] not in METHODS:
            raise ProxyMethodNotAllowed("method not allowed", headers={"Allow": ", ".join(METHODS)})
        path = normalise_path(_raw_tail(scope))
        self.allow.check(path)
        gobe = self.gobe()
        if gobe is None:
            raise GoBENotConfigured("the GoBE proxy is not configured (GOBE_BASE_URL)")
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            raise ProxyBodyTooLarge("request body too large")
        return gobe, path


class _RequestBody:
    """The request body as an async iterator over ``receive()``, counted and capped while it streams."""

    def __init__(self, receive: Receive, *, limit_bytes: int) -> None:
        self.receive = receive
        self.limit_bytes = limit_bytes
        self.received_bytes = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            self.received_bytes += len(chunk)
            if self.received_bytes > self.limit_bytes:
                # Stop reading now; the server discards the rest once the 413 has been sent.
                raise ProxyBodyTooLarge("request body too large")
            if chunk:
                yield chunk
            more = message.get("more_body", False)


async def _relay(chunks: AsyncIterator[bytes], *, receive: Receive, send: Send) -> None:
    """Copy GoBE's body to the client until it ends or the client leaves (then stop reading GoBE)."""

    async def pump() -> None:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    copy, watch = asyncio.ensure_future(pump()), asyncio.ensure_future(until_disconnect())
    try:
        await asyncio.wait((copy, watch), return_when=asyncio.FIRST_COMPLETED)
    finally:
        copy.cancel()
        watch.cancel()
        await asyncio.wait((copy, watch))
    if copy.cancelled():
        raise _ClientGone
    copy.result()  # re-raise a broken upstream


def _raw_tail(scope: Scope) -> bytes:
    """The raw path after ``/v1/proxy``: escapes intact, so they are checked, not trusted."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    if not raw.startswith(PREFIX.encode()):  # e.g. "/v1/%70roxy/…": decoded, it only looks like ours
        raise InvalidRequest("bad proxy path")
    return raw[len(PREFIX):]


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def _content_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidRequest("bad Content-Length")
    return int(raw)


def _has_body(scope: Scope) -> bool:
    """RFC 9112 §6.3: a request without Content-Length or Transfer-Encoding has no body."""
    return _content_length(scope) not in (None, 0) or _header(scope, b"transfer-encoding") is not None
