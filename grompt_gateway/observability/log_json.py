"""JSON log lines on stdout, each bound to the request id, with a redaction filter as a second line
of defence: nothing that looks like an API key or an Authorization value is ever written.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from types import TracebackType
from typing import Any, Final

import orjson

from grompt_gateway.observability.one_line import ExceptionsOnly, OneLinePerRequest
from grompt_gateway.observability.request_context import LINE_WRITTEN, REQUEST_ID

_SECRET_PATTERNS: Final = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|\b(sk-ant-|sk-proj-|sk-|AIza|xai-|gsk_)[A-Za-z0-9_-]{6,}"
    r"|((?:api[_-]?key|authorization|x-api-key|x-goog-api-key|cookie|token|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"
)
# A path's query string (uvicorn logs refused WebSocket handshakes with it): its values may be prompt text.
_QUERY: Final = re.compile(r"(/[^\s\"'?#]*)\?[^\s\"'#]+")
_MAX_FIELD_CHARS: Final = 2_000
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# uvicorn's ANSI-coloured copy of its message; our own bookkeeping.
_NOT_LOGGED: Final = frozenset({"req_id", "color_message", LINE_WRITTEN})
_PLAIN: Final = (str, int, float, bool, type(None), list, dict)
# Loggers that would log request bodies, headers or URLs at DEBUG/INFO: kept at WARNING whatever LOG_LEVEL.
_QUIET_LIBRARIES: Final = ("openai", "anthropic", "google_genai", "httpx", "httpcore", "httpx2", "httpcore2",
                           "aiohttp", "urllib3", "hpack", "multipart", "websockets", "watchfiles")


def redact(text: str) -> str:
    """Replace anything that looks like a credential, and every query string, with a marker."""
    return _redact_short(text) if len(text) <= _SHORT_CHARS else _redact(text)


# The access line's fields (method, path, route, provider, model…) repeat from request to request: a short
# text's redaction is remembered (a pure function of the text; bounded in count and size).
_SHORT_CHARS: Final = 256


@functools.lru_cache(maxsize=2048)
def _redact_short(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    if len(text) > _MAX_FIELD_CHARS:
        text = text[:_MAX_FIELD_CHARS] + "…"
    text = _QUERY.sub(r"\1?[query]", text)
    return _SECRET_PATTERNS.sub(lambda m: (m.group(1) or m.group(3) or "") + "[redacted]", text)


class RedactingFilter(logging.Filter):
    """Redact the message and every string field of a record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, req_id, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "req_id": getattr(record, "req_id", None) or REQUEST_ID.get(),
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            # Plain values only: objects (Django's ``request``) print the URL with its query string.
            if key not in _STANDARD_ATTRS and key not in _NOT_LOGGED and isinstance(value, _PLAIN):
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type and where it was raised, never its message or a traceback's
            # values: they can quote prompt text or headers.
            line["exc_type"] = record.exc_info[0].__name__
            line["exc_at"] = _raised_at(record.exc_info[2])
        return orjson.dumps(line, default=str).decode()


def _raised_at(tb: TracebackType | None) -> str | None:
    """``file:line in function`` of the innermost frame."""
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno} in {code.co_name}"


def logging_config(level: str) -> dict[str, Any]:
    """Return the dictConfig for LOG_LEVEL: every logger (ours, Django's, uvicorn's, the SDKs',
    asyncio's) writes JSON to stdout through one handler, one line per request."""
    level = level.upper()
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
               "formatter": "json", "filters": ["redact", "one_line"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}, "one_line": {"()": OneLinePerRequest},
                    "exceptions_only": {"()": ExceptionsOnly}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"level": "WARNING"},
            "django.request": {"level": "WARNING", "filters": ["exceptions_only"]},
            # uvicorn's own access line is replaced by ours (stack/access.py); its other lines become JSON too.
            "uvicorn": {"handlers": ["stdout"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in _QUIET_LIBRARIES},
        },
    }
