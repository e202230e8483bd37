"""Turn a provider's failure (an HTTP status, a broken connection, a timeout, a broken answer) into ``llm.errors``.

Shared by the three adapters' ``_translate_errors()``, which read the provider's structured error (status, error
type/code) into a ``Cause``; whose fault a refusal is follows from the status and that cause alone, never from
message text (the table: llm/README.md § Errors). Imports the standard library, httpx2 and ``llm``, never
django, ninja, grompt_gateway, proxy or guards. Messages are ours: no upstream body, key or prompt.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Mapping
from typing import Final, Literal

import httpx2

from llm.errors import (
    DeadlineExceeded,
    GatewayError,
    ProviderMisconfigured,
    UpstreamBadAnswer,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamError,
)
from llm.types import ProviderId

log = logging.getLogger("llm.upstream")

# What a provider's structured error says went wrong, when it says more than its status.
Cause = Literal["unknown_model", "context_too_long", "credentials"]
# The provider refused the request itself: retrying cannot help and the client must change it.
_BAD_REQUEST_STATUSES: Final = frozenset({400, 413, 422})
# The provider refused the gateway's account: its key, its permissions, its billing.
_ACCOUNT_STATUSES: Final = frozenset({401, 402, 403})
# What the SDKs themselves retry (openai/anthropic `_should_retry`): MultiAI copies that policy.
_RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})


def status_error(
    *, provider: ProviderId, status: int, retry_after_s: float | None = None, cause: Cause | None = None
) -> GatewayError:
    """Return the gateway error for an error ``status`` answered by ``provider`` (``cause``: what its structured
    error says). The client's mistakes are ``UpstreamBadRequest``; the operator's are ``ProviderMisconfigured``,
    logged once with what to fix."""
    if cause == "credentials" or status in _ACCOUNT_STATUSES:
        fix = f"check the {provider} account's billing" if status == 402 else f"check {provider.upper()}_API_KEY"
        return misconfigured(provider=provider, status=status, what="the gateway's credentials", fix=fix)
    if cause == "unknown_model" and status in (400, 404):
        return UpstreamBadRequest(f"unknown model: {provider} has no such model ({status})", upstream_status=status)
    if status == 404:
        fix = f"check {provider.upper()}_BASE_URL"
        return misconfigured(provider=provider, status=status, what="the gateway's API path", fix=fix)
    if cause == "context_too_long" and status in _BAD_REQUEST_STATUSES:
        message = f"prompt too long for the model's context ({provider}, {status})"
        return UpstreamBadRequest(message, upstream_status=status)
    if status == 413:
        return UpstreamBadRequest(f"request too large for {provider} (413)", upstream_status=status)
    if status in _BAD_REQUEST_STATUSES:
        return UpstreamBadRequest(f"{provider} refused the request ({status})", upstream_status=status)
    if status == 429:
        message = f"{provider} is rate limiting the gateway (429)"
    else:
        message = f"{provider} answered with an error ({status})"
    return UpstreamError(message, upstream_status=status, retry_after_s=retry_after_s)


def misconfigured(*, provider: ProviderId, status: int, what: str, fix: str) -> ProviderMisconfigured:
    """Return the error for a refusal the operator must fix, and log (WARNING) what to fix: no key, no body."""
    log.warning(
        "%s refused %s (%d): %s", provider, what, status, fix,
        extra={"provider": provider, "upstream_status": status},
    )
    return ProviderMisconfigured(f"{provider} refused {what} ({status})", upstream_status=status)


def bad_answer(*, provider: ProviderId) -> UpstreamBadAnswer:
    """Return the error for a 200 that is not ``provider``'s answer: HTML, not JSON, or JSON of another shape."""
    return UpstreamBadAnswer(f"{provider} answered with something that is not its API's answer")


def ended_early(*, provider: ProviderId) -> UpstreamBadAnswer:
    """Return the error for a stream that ended (cleanly) without ``provider``'s final event."""
    return UpstreamBadAnswer(f"the {provider} stream ended early")


def stream_error(*, provider: ProviderId, status: int | None) -> GatewayError:
    """Return the gateway error for an error event sent inside a 200 stream."""
    if status is not None and status != 200:
        return status_error(provider=provider, status=status)
    return UpstreamError(f"{provider} reported an error in the middle of the answer")


def connection_error(*, provider: ProviderId) -> UpstreamConnectionError:
    """Return the gateway error for a provider that could not be reached or dropped the connection."""
    return UpstreamConnectionError(f"lost the connection to {provider}")


def deadline_error(*, provider: ProviderId) -> DeadlineExceeded:
    """Return the gateway error for a provider that did not answer before a deadline."""
    return DeadlineExceeded(f"{provider} did not answer in time")


def is_retryable(exc: GatewayError) -> bool:
    """Tell whether another attempt may succeed: 408/409/429, 5xx, or a connection failure."""
    if isinstance(exc, UpstreamConnectionError):
        return True
    if isinstance(exc, UpstreamError) and exc.upstream_status is not None:
        return exc.upstream_status in _RETRYABLE_STATUSES or exc.upstream_status >= 500
    return False


def failure_code(exc: GatewayError) -> str:
    """Return the label of a failed attempt for metrics: the upstream status, or timeout/connect/malformed/stream."""
    if isinstance(exc, DeadlineExceeded):
        return "timeout"
    if isinstance(exc, UpstreamConnectionError):
        return "connect"
    if isinstance(exc, UpstreamBadAnswer):
        return "malformed"
    if exc.upstream_status is not None:
        return str(exc.upstream_status)
    return "stream"


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Parse ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date); None when absent or bad."""
    if not headers:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        value = _finite(raw_ms)
        return None if value is None else max(value, 0.0) / 1000
    raw = headers.get("retry-after")
    if raw is None:
        return None
    value = _finite(raw)
    if value is not None:
        return max(value, 0.0)
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _finite(raw: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def transport_error(*, provider: ProviderId, exc: httpx2.RequestError) -> GatewayError:
    """Return the gateway error for a raw ``httpx2`` failure (genai and anthropic streams let them out)."""
    if isinstance(exc, httpx2.TimeoutException) and not isinstance(exc, httpx2.ConnectTimeout):
        return deadline_error(provider=provider)
    return connection_error(provider=provider)
