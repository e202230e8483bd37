"""CORS, the outermost HTTP layer (starlette's ``CORSMiddleware``): every answer carries it (the access
layer's error responses for the guards' 429/413/504, the proxy, static files), and preflights are
answered here, so they never reach the rate limit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

CORS_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_ALLOW_HEADERS: Final = ("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Org-Id",
                             "X-Request-Id", "Range", "If-Match", "If-None-Match")
CORS_EXPOSE_HEADERS: Final = ("X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining",
                              "RateLimit-Reset", "Idempotent-Replayed", "Content-Disposition", "ETag")


def cors(app: ASGIApp, *, allowed_origins: Sequence[str]) -> ASGIApp:
    """Wrap ``app`` in the gateway's CORS policy for ``allowed_origins``."""
    return CORSMiddleware(app, allow_origins=allowed_origins, allow_methods=CORS_METHODS,
                          allow_headers=CORS_ALLOW_HEADERS, expose_headers=CORS_EXPOSE_HEADERS, max_age=600)
