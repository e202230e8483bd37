"""Exactly one log line per request (docs/api.md § Logs): while a request is being served, a record from
any other logger (Django, an SDK, the gateway's own error paths) joins that request's access line under
``logs`` instead of becoming a line of its own; outside requests (start-up, shutdown) records pass."""

from __future__ import annotations

import logging
from typing import Any, Final

from grompt_gateway.observability.request_context import ACCESS_FIELDS, LINE_WRITTEN

ACCESS_LOGGER: Final = "grompt_gateway.access"
# A request that logs more than this keeps the first ones: the line stays bounded.
MAX_FOLDED: Final = 5


class OneLinePerRequest(logging.Filter):
    """Fold records logged during a request into its access line (install after the redaction filter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == ACCESS_LOGGER:
            return True
        fields = ACCESS_FIELDS.get()
        if fields is None or fields.get(LINE_WRITTEN) or not logging.getLogger(ACCESS_LOGGER).isEnabledFor(
                logging.INFO):
            # No request, its line is already out (a task that outlived it), or no access line at this
            # LOG_LEVEL: the record is the only place the event can be told.
            return True
        folded: list[dict[str, Any]] = fields.setdefault("logs", [])
        if len(folded) < MAX_FOLDED:
            entry = {"logger": record.name, "level": record.levelname.lower(), "msg": record.getMessage()}
            if record.exc_info and record.exc_info[0] is not None:
                entry["exc_type"] = record.exc_info[0].__name__
            folded.append(entry)
        return False


class ExceptionsOnly(logging.Filter):
    """For ``django.request``: its "Bad Request: /path" lines repeat the access line's status; only an
    exception Django caught itself (outside Ninja's handlers) says something new."""

    def filter(self, record: logging.LogRecord) -> bool:
        return bool(record.exc_info)
