"""``MAX_BODY_BYTES`` for the API, enforced before Django reads the body (it reads all of it before
any view runs): by ``Content-Length`` up front, and by counting chunked bodies."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guards.asgi import header
from guards.errors import PayloadTooLarge


class BodyLimit:
    """Answer ``413 payload_too_large`` for bodies over ``max_body_bytes``.

    ``exempt`` names routes with a limit of their own (the GoBE proxy): a path equal to one, or below
    it. ``OPTIONS`` is never exempt, because those routes hand it to Django.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_exempt(scope):
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised inside Django's body reader: it propagates, unanswered, to the access layer.
                    raise self._too_large()
            return message

        await self.app(scope, counting_receive, send)

    def _is_exempt(self, scope: Scope) -> bool:
        path: str = scope["path"]
        return scope["method"] != "OPTIONS" and any(path == route or path.startswith(route + "/")
                                                    for route in self.exempt)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body over {self.max_body_bytes} bytes")
