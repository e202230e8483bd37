"""The playground page (``/``, ``/playground``) and Django's static files (``/static/``, e.g. the
Swagger UI of ``/v1/docs``), answered by a small async ASGI layer in front of Django.

whitenoise builds the file index once, at start-up, from Django's staticfiles finders and the
playground folder, and decides every header (content type, ETag, Last-Modified, 304, Range, HEAD);
this layer only moves the bytes, reading files off the event loop. whitenoise's own middleware is
not used: it is a sync ``MiddlewareMixin``, a thread hop on every API request (STACK-NOTES §4, §10).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.contrib.staticfiles import finders
from whitenoise import WhiteNoise

from grompt_gateway.asgi_types import ASGIApp, Receive, Scope, Send
from llm.errors import MethodNotAllowed, NotFound

PLAYGROUND_DIR: Final = Path(__file__).parent / "playground"
PAGE_PATHS: Final = frozenset({"/", "/playground"})
_CHUNK_BYTES: Final = 256 * 1024
# Request headers whitenoise reads, as WSGI environ keys.
_CONDITIONAL: Final = {b"if-none-match": "HTTP_IF_NONE_MATCH", b"if-modified-since": "HTTP_IF_MODIFIED_SINCE",
                       b"range": "HTTP_RANGE", b"accept-encoding": "HTTP_ACCEPT_ENCODING"}
# The page only talks to its own origin, and model output is only ever set as text.
_PAGE_POLICY: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class StaticFiles:
    """Serve indexed files by exact path; hand everything else to ``app``. Unknown ``/static/`` paths
    are 404 JSON: the index is a dict of the files found at start-up, so no path can escape it."""

    def __init__(self, app: ASGIApp, *, playground_enabled: bool) -> None:
        self.app = app
        self.playground_enabled = playground_enabled
        self.static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        self.page_url = f"{self.static_prefix}playground/index.html"
        self.files: dict[str, Any] = _index(static_prefix=self.static_prefix, playground=playground_enabled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path in PAGE_PATHS or path.startswith(self.static_prefix)):
            await self.app(scope, receive, send)
            return
        if path in PAGE_PATHS:
            if not self.playground_enabled:
                raise NotFound("the playground is switched off (PLAYGROUND_ENABLED=false)")
            path = self.page_url
        static_file = self.files.get(path)
        if static_file is None:
            raise NotFound("no such file")
        await _serve(static_file, method=scope["method"], request_headers=_environ(scope), send=send)


def _index(*, static_prefix: str, playground: bool) -> dict[str, Any]:
    """Map URL path → whitenoise ``StaticFile``; the first finder to list a path wins, as in Django."""
    index = WhiteNoise(None, max_age=0, allow_all_origins=False, add_headers_function=_add_headers)
    if playground:
        index.add_files(str(PLAYGROUND_DIR), prefix=f"{static_prefix}playground/")
    for finder in finders.get_finders():
        for relative, storage in finder.list(None):
            prefix = (getattr(storage, "prefix", None) or "").strip("/")
            url = static_prefix + (f"{prefix}/" if prefix else "") + relative.replace("\\", "/")
            if url not in index.files:
                index.add_file_to_dictionary(url, storage.path(relative))
    return dict(index.files)


def _add_headers(headers: Any, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if url.endswith(".html"):
        headers["Content-Security-Policy"] = _PAGE_POLICY
        headers["Referrer-Policy"] = "no-referrer"


def _environ(scope: Scope) -> dict[str, str]:
    headers = scope["headers"]
    return {_CONDITIONAL[name]: value.decode("latin-1") for name, value in headers if name in _CONDITIONAL}


async def _serve(static_file: Any, *, method: str, request_headers: dict[str, str], send: Send) -> None:
    if method not in ("GET", "HEAD"):
        raise MethodNotAllowed("method not allowed", headers={"Allow": "GET, HEAD"})
    # GET opens the file: keep that, and every read, off the event loop.
    if method == "GET":
        response = await asyncio.to_thread(static_file.get_response, method, request_headers)
    else:
        response = static_file.get_response(method, request_headers)
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers]
    await send({"type": "http.response.start", "status": int(response.status), "headers": headers})
    file = response.file
    if file is None:
        await send({"type": "http.response.body", "body": b""})
        return
    try:
        while chunk := await asyncio.to_thread(file.read, _CHUNK_BYTES):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        file.close()
