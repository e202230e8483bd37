"""Django's ASGI handler without thread hops: no per-request ``ThreadSensitiveContext``, and the
request signals and ``response.close()`` run inline.

Stock Django wraps every request in a fresh thread-sensitive context (two thread starts per request,
measured), then hops to a thread twice more: for the sync ``request_started`` receivers and for
``response.close()``, which sends ``request_finished``. With no database those receivers are Django's
no-op housekeeping (``close_old_connections``, ``reset_queries``, ``close_caches``, ``reset_urlconf``),
and each hop costs a thread wake-up and a GIL hand-over on every request. The gateway runs nothing
sync and thread-bound per request (no ORM, no sync views, async-only middleware), so it runs them in
place; ``tests/api/test_no_sync_per_request.py`` enforces it. With a database configured, Django's
own ``handle`` is used, since closing a connection must not block the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix
from starlette.types import Receive, Scope, Send

# Django's own spelling of the ASGI callables (django-stubs); at run time both are the same dicts.
_DjangoReceive = Callable[[], Awaitable[Mapping[str, Any]]]
_DjangoSend = Callable[[Mapping[str, Any]], Awaitable[None]]
_NO_DATABASE = "django.db.backends.dummy"


class GatewayASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # Django fills an empty DATABASES with the dummy backend the first time it is read.
        self._inline = all(db.get("ENGINE") == _NO_DATABASE for db in settings.DATABASES.values())
        if self._inline:
            # With no database, these receivers walk the dummy connections to do nothing (~2 % of a
            # request's CPU, measured); other receivers (caches, urlconf) still run.
            signals.request_started.disconnect(reset_queries)
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(cast(dict[str, Any], scope), receive, cast(_DjangoSend, send))

    async def handle(self, scope: dict[str, Any], receive: _DjangoReceive, send: _DjangoSend) -> None:
        """Django 5.2's ``ASGIHandler.handle``, with the signals and ``close()`` called in place."""
        if not self._inline:
            await super().handle(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            set_script_prefix(get_script_prefix(scope))
            signals.request_started.send(sender=self.__class__, scope=scope)
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                assert error_response is not None
                await self.send_response(error_response, send)
                error_response.close()
                return
            response = await self._respond(request, receive=receive, send=send)
            if response is None:
                signals.request_finished.send(sender=self.__class__)
            else:
                response.close()  # sends request_finished
        finally:
            body_file.close()

    async def _respond(
        self, request: HttpRequest, *, receive: _DjangoReceive, send: _DjangoSend
    ) -> HttpResponseBase | None:
        """Serve ``request`` while listening for a disconnect, which cancels the view (as Django does).
        Return the response, or ``None`` when the client left first."""

        async def process_request() -> HttpResponseBase:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client left while we were sending
                await self.send_response(response, send)
            return response

        listener = asyncio.create_task(self.listen_for_disconnect(receive))
        responder = asyncio.create_task(process_request())
        try:
            await asyncio.wait((listener, responder), return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also when this task is cancelled (the deadline's hard stop): a view left running would keep its
            # upstream call open for a client that is gone.
            for task in (listener, responder):
                if task.done():
                    with contextlib.suppress(RequestAborted, asyncio.CancelledError):
                        task.result()
                else:
                    task.cancel()
                    with contextlib.suppress(RequestAborted, asyncio.CancelledError):
                        await task
        try:
            return responder.result()
        except asyncio.CancelledError:
            return None
