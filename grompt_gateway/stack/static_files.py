"""The playground page (``/``, ``/playground``) and Django's static files (``/static/``, e.g. the
Swagger UI of ``/v1/docs``), answered by a small async ASGI layer in front of Django.

The URL → file map is built once, at start-up, from Django's staticfiles finders and the playground
folder, so no request path can reach any other file. whitenoise decides every header (content type,
ETag, Last-Modified, 304, Range, HEAD); this layer moves the bytes, with all file work off the event
loop. whitenoise's own middleware is not used: it is a sync ``MiddlewareMixin``, a thread hop on
every API request.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.contrib.staticfiles import finders
from starlette.types import ASGIApp, Receive, Scope, Send
from whitenoise import WhiteNoise

from grompt_gateway.http_errors import MethodNotAllowed, NotFound

PLAYGROUND_DIR: Final = Path(__file__).parents[1] / "playground"
PAGE_PATHS: Final = frozenset({"/", "/playground", "/playground/"})
_CHUNK_BYTES: Final = 256 * 1024
# Request headers whitenoise reads, as WSGI environ keys.
_CONDITIONAL: Final = {b"if-none-match": "HTTP_IF_NONE_MATCH", b"if-modified-since": "HTTP_IF_MODIFIED_SINCE",
                       b"range": "HTTP_RANGE", b"accept-encoding": "HTTP_ACCEPT_ENCODING"}
# The page only talks to its own origin, and model output is only ever set as text.
_PAGE_POLICY: Final = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class StaticFiles:
    """Serve the mapped files by exact path; hand every other path to ``app``. An unknown
    ``/static/`` path, or the page while the playground is switched off, is a 404 JSON error."""

    def __init__(self, app: ASGIApp, *, playground_enabled: bool, playground_dir: Path = PLAYGROUND_DIR) -> None:
        self.app = app
        self.playground_enabled = playground_enabled
        self.static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        self.page_url = f"{self.static_prefix}playground/index.html"
        self.paths = _find_files(static_prefix=self.static_prefix,
                                 playground_dir=playground_dir if playground_enabled else None)
        self._whitenoise = WhiteNoise(None, max_age=0, allow_all_origins=False, add_headers_function=_add_headers)
        # url -> ((mtime_ns, size), whitenoise StaticFile): headers are rebuilt when a file changes on disk,
        # so editing the page while the server runs never serves a stale Content-Length or ETag.
        self._responders: dict[str, tuple[tuple[int, int], Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path in PAGE_PATHS or path.startswith(self.static_prefix)):
            await self.app(scope, receive, send)
            return
        if path in PAGE_PATHS:
            if not self.playground_enabled:
                raise NotFound("the playground is switched off (PLAYGROUND_ENABLED=false)")
            path = self.page_url
        if path not in self.paths:
            raise NotFound("no such file")
        if scope["method"] not in ("GET", "HEAD"):
            raise MethodNotAllowed("method not allowed", headers={"Allow": "GET, HEAD"})
        response = await asyncio.to_thread(self._respond, path, scope["method"], _environ(scope))
        if response is None:
            raise NotFound("no such file")
        await _send_response(response, send=send)

    def _respond(self, url: str, method: str, request_headers: dict[str, str]) -> Any:
        """Stat, (re)build the responder if the file changed, and open it: runs in a worker thread."""
        path = self.paths[url]
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._responders.get(url)
        if cached is None or cached[0] != stamp:
            cached = (stamp, self._whitenoise.get_static_file(path, url))
            self._responders[url] = cached
        return cached[1].get_response(method, request_headers)


def _find_files(*, static_prefix: str, playground_dir: Path | None) -> dict[str, str]:
    """Map URL path → file; the first finder to list a path wins, as in Django."""
    paths: dict[str, str] = {}
    if playground_dir is not None:
        for file in sorted(playground_dir.iterdir()):
            if file.is_file() and not file.name.startswith(".") and not file.name.endswith("~"):
                paths[f"{static_prefix}playground/{file.name}"] = str(file)
    for finder in finders.get_finders():
        for relative, storage in finder.list(None):
            prefix = (getattr(storage, "prefix", None) or "").strip("/")
            url = static_prefix + (f"{prefix}/" if prefix else "") + relative.replace("\\", "/")
            paths.setdefault(url, storage.path(relative))
    return paths


def _add_headers(headers: Any, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"
    if url.endswith(".html"):
        headers["Content-Security-Policy"] = _PAGE_POLICY
        headers["Referrer-Policy"] = "no-referrer"


def _environ(scope: Scope) -> dict[str, str]:
    headers = scope["headers"]
    return {_CONDITIONAL[name]: value.decode("latin-1") for name, value in headers if name in _CONDITIONAL}


async def _send_response(response: Any, *, send: Send) -> None:
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
