"""Django's ASGI handler without the per-request ``ThreadSensitiveContext``.

Stock Django wraps every request in a fresh thread-sensitive context, so each request's sync hops
get a new single-thread executor: two thread starts per request, the largest single cost of a
trivial endpoint (STACK-NOTES §10). The gateway runs nothing sync and thread-bound per request
(no ORM, no sync views, async-only middleware; ``tests/api/test_no_sync_per_request.py`` enforces
it), so the few remaining hops can share the process-wide executor.
"""

from __future__ import annotations

from django.core.handlers.asgi import ASGIHandler

from grompt_gateway.asgi_types import Receive, Scope, Send


class GatewayASGIHandler(ASGIHandler):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)  # type: ignore[arg-type]
