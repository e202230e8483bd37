"""Prometheus metrics of the gateway (docs/api.md § Metrics), on the default registry that
django-prometheus exports at ``/metrics``. Label values are bounded: routes come from a fixed table,
models not listed in the settings are recorded as ``other``.
"""

from __future__ import annotations

import contextlib
import os
from typing import Final

from prometheus_client import REGISTRY, Counter, Histogram, multiprocess

# LLM calls take from tens of milliseconds (a cached or tiny answer) to minutes (long streams).
LLM_BUCKETS_S: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
HTTP_BUCKETS_S: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "grompt_gateway_http_requests_total", "HTTP requests by route, method and status.",
    ["route", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "grompt_gateway_http_request_duration_seconds",
    "Time from request to the end of the response (whole stream for SSE), by route.",
    ["route"], buckets=HTTP_BUCKETS_S,
)
TOKENS = Counter(
    "grompt_gateway_tokens", "Tokens used, by provider, model and type (prompt|completion).",
    ["provider", "model", "type"],
)
JOB_LATENCY = Histogram(
    "grompt_gateway_job_latency_seconds", "Duration of a model call (generate, or whole stream).",
    ["provider", "model"], buckets=LLM_BUCKETS_S,
)
FIRST_CHUNK = Histogram(
    "grompt_gateway_time_to_first_chunk_seconds", "Time from request to the first streamed chunk.",
    ["provider", "model"], buckets=LLM_BUCKETS_S,
)
UPSTREAM_ERRORS = Counter(
    "grompt_gateway_upstream_errors", "Failed upstream attempts, by provider and code.",
    ["provider", "code"],
)
FALLBACKS = Counter(
    "grompt_gateway_fallbacks",
    "Requests moved from one provider to the next of FALLBACK_PROVIDERS (default route only), by from and to.",
    ["from", "to"],
)
CANCELLED_STREAMS = Counter(
    "grompt_gateway_cancelled_streams", "Streams whose client left before the end.", ["provider", "model"],
)

BUDGET_REJECTIONS = Counter(
    "grompt_gateway_budget_rejections", "Calls refused because their token reservation did not fit, by window.",
    ["window"],
)
TOKENS_ESTIMATED = Counter(
    "grompt_gateway_tokens_estimated",
    "Tokens estimated from text because no usage was reported (client left, timeout, cut stream).",
    ["provider", "model", "type"],
)

_ROUTES: Final = frozenset({
    "/v1/generate/stream", "/v1/generate", "/v1/budget", "/v1/providers", "/v1/health", "/v1/docs", "/v1/openapi.json",
    "/metrics", "/", "/playground",
})


def route_label(path: str) -> str:
    """Map a request path to one of a fixed set of route labels."""
    if path in _ROUTES:
        return path
    if path.startswith("/v1/proxy/") or path == "/v1/proxy":
        return "/v1/proxy/*"
    return "/static/*" if path.startswith("/static/") else "other"


def drop_unused_families() -> None:
    """Unregister the metrics django-prometheus creates on import for subsystems the gateway does not
    run (model saves, migrations): they would only ever be empty families in every scrape."""
    from django_prometheus import migrations, models

    for collector in (models.model_inserts, models.model_updates, models.model_deletes,
                      migrations.unapplied_migrations, migrations.applied_migrations):
        with contextlib.suppress(KeyError):  # already gone (ready() runs again in some test set-ups)
            REGISTRY.unregister(collector)


def forget_this_process() -> None:
    """With several workers (PROMETHEUS_MULTIPROC_DIR), drop this worker's live gauges as it stops:
    uvicorn has no worker-exit hook in the parent, so each worker does it itself. Counters and
    histograms stay, so the totals keep what a stopped worker counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
