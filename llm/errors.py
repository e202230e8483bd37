"""The shared base of the gateway's errors, and the model layer's own.

``GatewayError`` (with its contract ``code``), ``InvalidRequest`` and ``DeadlineExceeded`` are shared:
every package may import and raise them, and this module imports only the standard library, so it
loads no SDK. The other classes here are the model layer's; the guards' live in ``guards/errors.py``,
the GoBE pass-through's in ``proxy/errors.py``, the gateway's own and the one status table in
``grompt_gateway/http_errors.py`` (which draws the whole tree).

    GatewayError                     internal_error        shared base
     ├── InvalidRequest              invalid_request       shared
     │    └── UpstreamBadRequest     invalid_request       the provider refused the request (unknown model, …)
     ├── DeadlineExceeded            timeout               shared
     ├── ProviderNotConfigured       provider_not_configured   no API key for the provider asked for
     └── UpstreamError               upstream_error        the provider failed (``upstream_status`` keeps its status)
          ├── UpstreamConnectionError  upstream_error      no connection, or it broke mid-answer
          ├── UpstreamBadAnswer      upstream_error        a 200 that is not the provider's answer; a cut stream
          └── ProviderMisconfigured  upstream_error        the provider refused the gateway's key or base URL

Imports only the standard library: never django, ninja or the SDKs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

_MAX_MESSAGE_CHARS = 200


class GatewayError(Exception):
    """Base of every error the gateway reports to a client. Messages are short and carry no secret."""

    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        upstream_status: int | None = None,
    ) -> None:
        if len(message) > _MAX_MESSAGE_CHARS:
            message = message[: _MAX_MESSAGE_CHARS - 1] + "…"
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.headers: Mapping[str, str] = headers or {}
        self.upstream_status = upstream_status


class InvalidRequest(GatewayError):
    """The client's request is wrong (shared)."""

    code = "invalid_request"


class DeadlineExceeded(GatewayError):
    """A deadline passed before the answer (shared)."""

    code = "timeout"


class ProviderNotConfigured(GatewayError):
    """No API key for the provider asked for."""

    code = "provider_not_configured"


class UpstreamError(GatewayError):
    """The provider failed (after the short retries)."""

    code = "upstream_error"


class UpstreamConnectionError(UpstreamError):
    """The provider could not be reached, or the connection broke before the answer was complete."""


class UpstreamBadAnswer(UpstreamError):
    """The provider answered 200 with something that is not its answer (HTML, not JSON, the wrong shape), or its
    stream ended without the provider's final event."""


class ProviderMisconfigured(UpstreamError):
    """The provider refused the gateway's own credentials or configuration (401, 402, 403, a 404 that is not
    "model not found"): the operator must fix it, not the client."""


class UpstreamBadRequest(InvalidRequest):
    """The provider refused the request itself (400/413/422, a 404 for an unknown model): the client's mistake."""


__all__ = [
    "DeadlineExceeded",
    "GatewayError",
    "InvalidRequest",
    "ProviderMisconfigured",
    "ProviderNotConfigured",
    "UpstreamBadAnswer",
    "UpstreamBadRequest",
    "UpstreamConnectionError",
    "UpstreamError",
]
