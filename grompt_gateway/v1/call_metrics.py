"""Record a /v1 model call in Prometheus and on the request's access line: tokens, latency, time to
first chunk, cancellations. Model labels are bounded: unlisted models count as ``other``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from grompt_gateway.observability.metrics import (
    CANCELLED_STREAMS,
    FIRST_CHUNK,
    JOB_LATENCY,
    TOKENS,
    TOKENS_ESTIMATED,
)
from grompt_gateway.observability.request_context import annotate
from llm.ports import GenStream
from llm.types import GenResult, GenUsage, ProviderId

if TYPE_CHECKING:
    from grompt_gateway.v1.budget import Spend
    from grompt_gateway.v1.sse import StreamReport
    from grompt_gateway.wiring import Services


def model_label(services: Services, *, provider: ProviderId, model: str) -> str:
    return model if services.multi.is_listed(provider, model) else "other"


def _count_usage(*, provider: str, model: str, usage: GenUsage | None, spend: Spend) -> None:
    """Reported usage goes to the tokens counter; a call that ended without it is counted as an estimate
    (prompt and text produced), so abandoned generations show what they cost."""
    if spend.estimated:
        TOKENS_ESTIMATED.labels(provider, model, "prompt").inc(spend.prompt)
        TOKENS_ESTIMATED.labels(provider, model, "completion").inc(spend.completion)
        annotate(prompt_tokens=spend.prompt, completion_tokens=spend.completion, total_tokens=spend.total)
        return
    if usage is None:
        return
    TOKENS.labels(provider, model, "prompt").inc(usage.prompt)
    TOKENS.labels(provider, model, "completion").inc(usage.completion)
    annotate(prompt_tokens=usage.prompt, completion_tokens=usage.completion, total_tokens=usage.total)


def record_result(services: Services, *, result: GenResult, spend: Spend, elapsed_s: float) -> None:
    label = model_label(services, provider=result.provider, model=result.model)
    JOB_LATENCY.labels(result.provider, label).observe(elapsed_s)
    _count_usage(provider=result.provider, model=label, usage=result.usage, spend=spend)
    annotate(finish_reason=result.finish_reason)


def record_stream(services: Services, *, provider: ProviderId, model: str, stream: GenStream,
                  report: StreamReport, spend: Spend, elapsed_s: float) -> None:
    """Labelled with who served (``provider``/``model``: the stream's, after any fallback)."""
    label = model_label(services, provider=provider, model=model)
    JOB_LATENCY.labels(provider, label).observe(elapsed_s)
    if report.first_chunk_s is not None:
        FIRST_CHUNK.labels(provider, label).observe(report.first_chunk_s)
        annotate(ttfc_ms=round(report.first_chunk_s * 1000, 2))
    _count_usage(provider=provider, model=label, usage=stream.usage, spend=spend)
    annotate(finish_reason=stream.finish_reason, stream=True)
    if report.cancelled:
        CANCELLED_STREAMS.labels(provider, label).inc()
        annotate(cancelled=True)
    if report.error is not None:
        annotate(stream_error=report.error.code)
