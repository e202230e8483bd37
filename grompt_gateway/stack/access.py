"""The outermost HTTP layer: request id, the JSON access line, request metrics, and the error shape
for anything raised before a response started (guards, proxy, unhandled exceptions).

Pure ASGI and async-only, so it costs microseconds and never hops to a thread.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grompt_gateway.http_errors import send_error, unhandled
from grompt_gateway.observability.metrics import REQUEST_LATENCY, REQUESTS, route_label
from grompt_gateway.observability.request_context import (
    ACCESS_FIELDS,
    LINE_WRITTEN,
    REQUEST_ID,
    sanitise_request_id,
)
from guards.asgi import header

access_log = logging.getLogger("grompt_gateway.access")

# nginx's convention for "the client closed the connection before the response".
CLIENT_CLOSED = 499


class AccessLayer:
    """Bind a request id, log one access line, count the request, render early errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = sanitise_request_id(header(scope, b"x-request-id"))
        fields: dict[str, Any] = {}
        REQUEST_ID.set(request_id)
        ACCESS_FIELDS.set(fields)
        scope["grompt.request_id"] = request_id
        state = {"status": CLIENT_CLOSED, "bytes": 0, "started": False}
        rid_header = (b"x-request-id", request_id.encode())

        async def edge_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                message["headers"] = [*message.get("headers", ()), rid_header]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, edge_send)
        except Exception as exc:
            error = unhandled(exc)
            if not state["started"]:
                await send_error(edge_send, error, request_id=request_id)
        finally:
            self._record(scope, fields, state=state, started=started)

    @staticmethod
    def _record(scope: Scope, fields: dict[str, Any], *, state: dict[str, Any], started: float) -> None:
        elapsed_s = time.perf_counter() - started
        route = route_label(scope["path"])
        status = state["status"]
        REQUESTS.labels(route, scope["method"], str(status)).inc()
        REQUEST_LATENCY.labels(route).observe(elapsed_s)
        if access_log.isEnabledFor(logging.INFO):
            # The path only: query values can carry identifiers or prompt text.
            access_log.info("request", extra={
                "method": scope["method"], "path": scope["path"], "route": route, "status": status,
                "bytes_out": state["bytes"], "lat_ms": round(elapsed_s * 1000, 2), **fields,
            })
        fields[LINE_WRITTEN] = True
