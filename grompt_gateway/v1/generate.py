"""The /v1 model endpoints (thin): parse, call MultiAI through the ports, render.

``POST /v1/generate`` (JSON, or SSE with ``stream: true`` / ``Accept: text/event-stream``) and
``GET /v1/generate/stream`` (SSE for ``EventSource``). ``/v1/health`` and ``/v1/providers``: meta.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass

import orjson

from grompt_gateway.config import GatewaySettings
from grompt_gateway.observability.request_context import REQUEST_ID, annotate
from grompt_gateway.server.http_port import RequestContext, ResponsePayload
from grompt_gateway.v1.budget import NOTHING, CallBudget, client_key_of
from grompt_gateway.v1.call_metrics import record_result, record_stream
from grompt_gateway.v1.schemas import GenerateIn, OptionsIn, StreamQuery
from grompt_gateway.v1.sse import SSE_HEADERS, EventWriter, Relay, StreamReport, sse_body
from grompt_gateway.wiring import Services, current_services
from guards import REPLAYED_HEADER, StoredResponse, fingerprint
from llm.errors import InvalidRequest
from llm.types import GenInput, GenOptions, ProviderId

# With heartbeats off, how long a stream may wait for its first chunk before the 200 is committed anyway.
NO_HEARTBEAT_COMMIT_S = 15.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GenCall:
    """One resolved generation: who is asked first, whether others may answer, and what they are asked."""

    provider: ProviderId
    model: str
    input: GenInput
    options: GenOptions
    fallback: bool = False  # the default route: FALLBACK_PROVIDERS may serve (docs/api.md § Fallback)


def _resolve(services: Services, *, provider: ProviderId | None, model: str | None, system: str | None,
             user: str, options: OptionsIn | None) -> GenCall:
    settings = services.settings
    _check_sizes(settings, system=system, user=user, options=options)
    pid, model_name = services.multi.resolve(provider=provider, model=model)
    annotate(provider=pid, model=model_name)
    # With budgets on, every provider call carries a completion cap: what the reservation counts on.
    default_cap = settings.max_output_tokens if settings.budgets_on else None
    gen_options = GenOptions(
        temperature=options.temperature, top_p=options.top_p, max_tokens=options.max_tokens or default_cap,
        stop_sequences=tuple(options.stop_sequences) if options.stop_sequences else None,
    ) if options else GenOptions(max_tokens=default_cap)
    return GenCall(provider=pid, model=model_name, input=GenInput(user=user, system=system or None),
                   options=gen_options, fallback=services.multi.is_default_route(provider=provider, model=model))


def _check_sizes(settings: GatewaySettings, *, system: str | None, user: str, options: OptionsIn | None) -> None:
    if len(user) + len(system or "") > settings.max_prompt_chars:
        raise InvalidRequest(f"prompt longer than {settings.max_prompt_chars} characters")
    if not user.strip():
        raise InvalidRequest("user: must not be blank")
    if options and options.max_tokens and options.max_tokens > settings.max_output_tokens:
        raise InvalidRequest(f"options.maxTokens: at most {settings.max_output_tokens}")


async def generate(ctx: RequestContext) -> ResponsePayload:
    body: GenerateIn = ctx.body
    services = current_services()
    call = _resolve(services, provider=body.provider, model=body.model, system=body.system, user=body.user,
                    options=body.options)
    if body.stream or "text/event-stream" in ctx.headers.get("accept", ""):
        return await _stream(services, call, ctx)
    if "idempotency-key" in ctx.headers:
        return await _idempotent(services, call, ctx, key=ctx.headers["idempotency-key"])
    return await _generate_json(services, call, client_key=client_key_of(ctx))


def _reserve(services: Services, call: GenCall, *, client_key: str) -> Awaitable[CallBudget]:
    return CallBudget.reserve(services.budget, client_key=client_key, input=call.input,
                              completion_cap=call.options.max_tokens)


async def _idempotent(services: Services, call: GenCall, ctx: RequestContext, *, key: str) -> ResponsePayload:
    """``Idempotency-Key`` (docs/api.md § Headers): one provider call per key, body and client; repeats replay it."""
    client_key = client_key_of(ctx)

    async def produce() -> StoredResponse:  # a replay never gets here: it costs no tokens
        payload = await _generate_json(services, call, client_key=client_key)
        return StoredResponse(status=payload.status, body=orjson.dumps(payload.body),
                              headers={"Content-Type": "application/json"})

    stored, replayed = await services.idempotency.run(
        client_key=client_key, key=key, fingerprint=fingerprint(ctx.body.model_dump(mode="json")), produce=produce)
    annotate(idempotent_replayed=replayed)
    headers = {**stored.headers, REPLAYED_HEADER: "true"} if replayed else dict(stored.headers)
    return ResponsePayload(status=stored.status, headers=headers, body=stored.body)


async def _generate_json(services: Services, call: GenCall, *, client_key: str) -> ResponsePayload:
    hold = await _reserve(services, call, client_key=client_key)
    started = time.perf_counter()
    try:
        result = await services.multi.generate(call.input, call.options, provider=call.provider, model=call.model,
                                               fallback=call.fallback)
    except asyncio.CancelledError:
        # The client left: Django cancelled us, which aborted the provider call; no answer, no cost.
        annotate(cancelled=True)
        hold.settle_soon(NOTHING)
        raise
    except BaseException:
        await hold.settle(NOTHING)
        raise
    spend = hold.of_result(usage=result.usage, text=result.text)
    await hold.settle(spend)
    record_result(services, result=result, spend=spend, elapsed_s=time.perf_counter() - started)
    return ResponsePayload(body=result.to_json())


async def generate_stream(ctx: RequestContext) -> ResponsePayload:
    q: StreamQuery = ctx.body
    services = current_services()
    options = OptionsIn(temperature=q.temperature, top_p=q.topP, max_tokens=q.maxTokens,
                        stop_sequences=q.stop or None)
    call = _resolve(services, provider=q.provider, model=q.model, system=q.system, user=q.user, options=options)
    return await _stream(services, call, ctx)


async def _stream(services: Services, call: GenCall, ctx: RequestContext) -> ResponsePayload:
    if "last-event-id" in ctx.headers:
        # A browser's automatic reconnect: never pay for the same generation twice (docs/api.md § The event stream).
        annotate(reconnect_refused=True)
        return ResponsePayload(status=204, body=None)
    hold = await _reserve(services, call, client_key=client_key_of(ctx))
    started = time.perf_counter()
    request_id = REQUEST_ID.get()
    try:
        stream = services.multi.stream(call.input, call.options, provider=call.provider, model=call.model,
                                       fallback=call.fallback)
    except BaseException:
        await hold.settle(NOTHING)
        raise
    relay = Relay(stream, heartbeat_s=services.settings.sse_heartbeat_s, started=started, drain=services.drain)
    try:
        first = await relay.first(commit_window_s=services.settings.sse_heartbeat_s or NO_HEARTBEAT_COMMIT_S)
    except BaseException as exc:
        await relay.aclose()
        cancelled = isinstance(exc, asyncio.CancelledError)
        await hold.settle_failed(hold.of_stream(stream, relay.report), cancelled=cancelled)
        raise

    def on_end(report: StreamReport) -> None:
        cost = hold.of_stream(stream, report)
        hold.settle_soon(cost)  # the client left, or the settle before the last event was cut short
        record_stream(services, provider=stream.provider or call.provider, model=stream.model or call.model,
                      stream=stream, report=report, spend=cost, elapsed_s=time.perf_counter() - started)

    def start_event() -> dict[str, object]:
        # Built with the first chunk: after a fallback, it names the provider that produced it.
        return {"type": "start", "provider": stream.provider, "model": stream.model, "requestId": request_id}

    relay.when_over(on_end)
    body = sse_body(relay, first=first, writer=EventWriter(request_id), start_event=start_event,
                    before_last=lambda report: hold.settle(hold.of_stream(stream, report)))
    return ResponsePayload(status=200, headers=dict(SSE_HEADERS), body=body)
