"""Turn a provider's failure (an HTTP status, a broken connection, a timeout) into ``llm.errors``.

Shared by the three adapters' ``_translate_errors()``. Imports the standard library, httpx2 and ``llm``,
never django, ninja, grompt_gateway, proxy or guards. Messages are ours: no upstream body, key or prompt.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import Final

import httpx2

from llm.errors import (
    DeadlineExceeded,
    GatewayError,
    UpstreamBadRequest,
    UpstreamConnectionError,
    UpstreamError,
)
from llm.types import ProviderId

# The provider refused the request itself: retrying cannot help and the client must change it.
_BAD_REQUEST_STATUSES: Final = frozenset({400, 404, 413, 422})
# What the SDKs themselves retry (openai/anthropic `_should_retry`): MultiAI copies that policy.
_RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})


def status_error(*, provider: ProviderId, status: int, retry_after_s: float | None = None) -> GatewayError:
    """Return the gateway error for an error ``status`` answered by ``provider``."""
    if status in _BAD_REQUEST_STATUSES:
        return UpstreamBadRequest(f"{provider} refused the request ({status})", upstream_status=status)
    if status in (401, 403):
        message = f"{provider} rejected the gateway's credentials ({status})"
    elif status == 429:
        message = f"{provider} is rate limiting the gateway (429)"
    else:
        message = f"{provider} answered with an error ({status})"
    return UpstreamError(message, upstream_status=status, retry_after_s=retry_after_s)


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
    """Return the label of a failed attempt for metrics: the upstream status, or timeout/connect/stream."""
    if isinstance(exc, DeadlineExceeded):
        return "timeout"
    if isinstance(exc, UpstreamConnectionError):
        return "connect"
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
