"""The gateway speaks HTTP and SSE only: a WebSocket handshake on any route is refused cleanly
(uvicorn answers ``403``) instead of reaching Django, which raises on a non-HTTP scope (a 500)."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send


async def refuse_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    """Close a ``websocket`` scope before accepting it; the server turns that into ``403 Forbidden``."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
