"""Per-request state shared across the ASGI stack, Django views and log records: the request id and
the access-log fields that handlers enrich (provider, model, tokens, …).

Context variables are copied into every task Django creates for a request, and the fields dict is
shared by reference, so a handler's additions reach the access line written by the access layer (stack/access.py).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import Any, Final

REQUEST_ID: Final[ContextVar[str]] = ContextVar("grompt_request_id", default="-")
ACCESS_FIELDS: Final[ContextVar[dict[str, Any] | None]] = ContextVar("grompt_access_fields", default=None)
# Set in a request's fields once its access line is written; later records are lines of their own.
LINE_WRITTEN: Final = "_line_written"

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def sanitise_request_id(raw: str | None) -> str:
    """Keep a client's id when it is a short token of safe characters; otherwise make a new one."""
    if raw is not None and _SANE_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def annotate(**fields: Any) -> None:
    """Add fields to the current request's access-log line (no-op outside a request)."""
    current = ACCESS_FIELDS.get()
    if current is not None:
        current.update(fields)
