"""The option not taken, kept to measure it: the proxy as a Ninja operation inside Django, forwarding
``request.read(65536)`` chunks of Django's spooled body through the same ``GoBEClient``.

Run only in a subprocess by ``memory_probe.py``:
``uvicorn tests.proxy.ninja_variant:application`` with ``GOBE_BASE_URL`` set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import cache

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.http import HttpRequest, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI  # noqa: E402

from proxy import GoBEClient  # noqa: E402

settings.ROOT_URLCONF = __name__
api = NinjaAPI(urls_namespace="ninja-variant")


@cache
def _gobe() -> GoBEClient:
    return GoBEClient(base_url=settings.GATEWAY.gobe_base_url, connect_timeout_s=5, read_timeout_s=30)


@api.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/proxy/{path:path}")
async def proxy(request: HttpRequest, path: str) -> StreamingHttpResponse:
    gobe = _gobe()

    async def body() -> AsyncIterator[bytes]:
        while chunk := request.read(65536):  # Django's SpooledTemporaryFile: memory, then disk
            yield chunk

    length = request.headers.get("Content-Length")
    headers = [(b"content-length", length.encode())] if length else []
    upstream = await gobe.open(method=request.method or "GET", headers=headers, body=body() if length else None,
                               url=gobe.url(path, query=request.META.get("QUERY_STRING", "").encode()))

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in gobe.body(upstream):
                yield chunk
        finally:
            await upstream.aclose()

    return StreamingHttpResponse(relay(), status=upstream.status_code)


async def health(request: HttpRequest) -> StreamingHttpResponse:
    async def ok() -> AsyncIterator[bytes]:
        yield b"ok"

    return StreamingHttpResponse(ok())


urlpatterns = [path("v1/", api.urls), path("v1/health", health)]
application = ASGIHandler()
