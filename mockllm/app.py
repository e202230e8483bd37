"""`MockLLM`: the raw ASGI app. Routes each request to its provider wire, records it, picks a scenario,
and hands a prepared `Plan` to `exchange.play`."""

from __future__ import annotations

import re
from typing import Any, Final

import orjson
from starlette.types import Receive, Scope, Send

from mockllm.answer import answer_from_text, compose_answer
from mockllm.anthropic_wire import AnthropicWire
from mockllm.exchange import Plan, play
from mockllm.faults import HTML_PAGE, broken_body, huge_answer
from mockllm.gemini_wire import GeminiWire
from mockllm.openai_wire import OpenAIWire
from mockllm.recorder import RecordedRequest, Recorder
from mockllm.scenario import DirectiveError, Scenario, ScenarioBook, find_directive, strip_directives
from mockllm.wire import BadRequest, Prompt, Wire

__all__ = ["PROVIDERS", "MockLLM"]

PROVIDERS: Final = ("openai", "anthropic", "gemini")
_OPENAI: Final = OpenAIWire()
_ANTHROPIC: Final = AnthropicWire()
_GEMINI: Final = GeminiWire()
_FIXED_ROUTES: Final[dict[str, Wire]] = {"/v1/chat/completions": _OPENAI, "/v1/messages": _ANTHROPIC}
_GEMINI_ROUTE: Final = re.compile(r"/(?:v1|v1beta|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)")
_MAX_BODY_BYTES: Final = 16 * 1024 * 1024
_JSON: Final = [(b"content-type", b"application/json")]
_HEALTH: Final = orjson.dumps({"status": "ok", "service": "mockllm", "providers": PROVIDERS})


class MockLLM:
    """ASGI app speaking the OpenAI, Anthropic and Gemini wire protocols with deterministic answers.

    `api_key=None` accepts any non-empty key; a string requires exactly that key. `chunk_delay_s` is the
    pause before each streamed chunk, `chunks` the default answer length (None: the natural paragraph).
    """

    def __init__(self, *, chunk_delay_s: float = 0.0, chunks: int | None = None, api_key: str | None = None) -> None:
        self.chunk_delay_s = chunk_delay_s
        self.chunks = chunks
        self.api_key = api_key
        self.recorder = Recorder()
        self.scenarios = ScenarioBook()

    # -- in-process control ------------------------------------------------------------------------------

    def enqueue(self, scenario: Scenario | str, *, provider: str | None = None, times: int | None = None) -> MockLLM:
        """Queue `scenario` (or a `key=value` spec) for the next `times` requests (of `provider` only)."""
        self.scenarios.enqueue(_as_scenario(scenario), provider=_checked(provider), times=times)
        return self

    def script(self, *scenarios: Scenario | str, provider: str | None = None) -> MockLLM:
        """Queue one scenario per coming request, in order. `Scenario()` means a normal answer."""
        for scenario in scenarios:
            self.enqueue(scenario, provider=provider, times=1)
        return self

    def reset(self) -> None:
        """Forget recorded requests, queued scenarios and directive use counts."""
        self.recorder.reset()
        self.scenarios.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.recorder.requests

    def requests_for(self, provider: str) -> list[RecordedRequest]:
        return self.recorder.requests_for(provider)

    @property
    def disconnects(self) -> list[RecordedRequest]:
        return self.recorder.disconnects

    @property
    def streams_completed(self) -> int:
        return self.recorder.streams_completed

    @property
    def streams_cancelled(self) -> int:
        return self.recorder.streams_cancelled

    def wait_for_disconnect(self, *, timeout_s: float, count: int = 1) -> bool:
        return self.recorder.wait_for_disconnect(timeout_s=timeout_s, count=count)

    async def wait_for_disconnect_async(self, *, timeout_s: float, count: int = 1) -> bool:
        return await self.recorder.wait_for_disconnect_async(timeout_s=timeout_s, count=count)

    def wait_for_requests(self, *, count: int, timeout_s: float) -> bool:
        return self.recorder.wait_for_requests(count=count, timeout_s=timeout_s)

    # -- ASGI --------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        wire, model, stream = _route(path)
        if scope["method"] == "GET" and path in ("/", "/health"):
            await _send_json(send, status=200, body=_HEALTH)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left while sending its request
        entry = self.recorder.record(
            provider=wire.provider if wire else "unknown",
            method=scope["method"],
            path=path,
            query=scope["query_string"].decode("latin-1"),
            headers=_headers(scope),
            body=_loads(body),
            stream=stream,
            model=model,
        )
        if wire is None or scope["method"] != "POST":
            entry.status = 404
            self.recorder.finish(entry, outcome="error")
            await _send_json(send, status=404, body=b'{"error":{"message":"mockllm: no such route"}}')
            return
        plan = self._plan(wire=wire, entry=entry, model=model, stream=stream)
        entry.status = plan.status
        await play(plan=plan, send=send, receive=receive, entry=entry, recorder=self.recorder)

    def _plan(self, *, wire: Wire, entry: RecordedRequest, model: str | None, stream: bool) -> Plan:
        key = wire.api_key(headers=entry.headers, query=entry.query)
        if key is None or (self.api_key is not None and key != self.api_key):
            return _error_plan(wire, status=401, message="mockllm: invalid or missing API key")
        if not isinstance(entry.body, dict):
            return _error_plan(wire, status=400, message="mockllm: the body must be a JSON object")
        try:
            prompt = wire.parse(body=entry.body, model=model, stream=stream)
            directive = find_directive(prompt.user) or find_directive(prompt.system)
            scenario = self.scenarios.pick(provider=wire.provider, directive=directive)
        except (BadRequest, DirectiveError) as exc:
            return _error_plan(wire, status=400, message=str(exc))
        entry.stream, entry.model, entry.scenario = prompt.stream, prompt.model, scenario
        if scenario.status is not None:
            return _error_plan(
                wire,
                status=scenario.status,
                scenario=scenario,
                message=f"mockllm scenario: HTTP {scenario.status}",
            )
        return self._answer_plan(wire=wire, prompt=prompt, scenario=scenario, seq=entry.seq)

    def _answer_plan(self, *, wire: Wire, prompt: Prompt, scenario: Scenario, seq: int) -> Plan:
        if scenario.text is not None:
            answer = answer_from_text(
                text=scenario.text,
                prompt_tokens=prompt.prompt_tokens,
                max_tokens=prompt.max_tokens,
                stop=prompt.stop,
            )
        else:
            answer = compose_answer(
                prompt=strip_directives(prompt.user),
                prompt_tokens=prompt.prompt_tokens,
                chunks=scenario.chunks if scenario.chunks is not None else self.chunks,
                max_tokens=prompt.max_tokens,
                stop=prompt.stop,
            )
        if scenario.huge_kb is not None:
            answer = huge_answer(answer, kib=scenario.huge_kb)
        reply_id = f"mock-{wire.provider}-{seq}"
        timing = _timing(scenario, default_gap_s=self.chunk_delay_s)
        if prompt.stream:
            frames = wire.frames(prompt=prompt, answer=answer, reply_id=reply_id)
            plan = Plan(status=200, headers=_sse_headers(wire), frames=frames, **timing)
        else:
            plan = Plan(status=200, headers=_JSON, body=wire.reply(prompt=prompt, answer=answer, reply_id=reply_id),
                        **timing)
        if scenario.body is None:
            return plan
        return broken_body(plan, fault=scenario.body, after=scenario.after or 0, provider=wire.provider)


def _route(path: str) -> tuple[Wire | None, str | None, bool]:
    wire = _FIXED_ROUTES.get(path)
    if wire is not None:
        return wire, None, False
    match = _GEMINI_ROUTE.fullmatch(path)
    if match is None:
        return None, None, False
    return _GEMINI, match.group(1), match.group(2) == "streamGenerateContent"


def _timing(scenario: Scenario, *, default_gap_s: float) -> dict[str, Any]:
    return {
        "delay_s": (scenario.delay_ms or 0.0) / 1000,
        "gap_s": default_gap_s if scenario.gap_ms is None else scenario.gap_ms / 1000,
        "hang": scenario.hang,
        "silence": scenario.silence,
        "stall_after": scenario.stall_after,
        "reset_after": scenario.reset_after,
        "error_after": scenario.midstream_error,
    }


def _error_plan(wire: Wire, *, status: int, message: str, scenario: Scenario | None = None) -> Plan:
    if scenario is not None and scenario.body == "html":  # an error page from a proxy or a web server
        return Plan(status=status, headers=[(b"content-type", b"text/html")], body=HTML_PAGE)
    body, headers = wire.error(status=status, message=message, reason=scenario.reason if scenario else None)
    if scenario is not None and scenario.retry_after_s is not None:
        seconds = scenario.retry_after_s
        headers = [*headers, (b"retry-after", (f"{seconds:g}").encode())]
    timing = _timing(scenario, default_gap_s=0.0) if scenario is not None else {}
    return Plan(status=status, headers=[*_JSON, *headers], body=body, **timing)


def _sse_headers(wire: Wire) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", wire.stream_content_type), (b"cache-control", b"no-cache")]


def _as_scenario(scenario: Scenario | str) -> Scenario:
    return Scenario.parse(scenario) if isinstance(scenario, str) else scenario


def _checked(provider: str | None) -> str | None:
    if provider is not None and provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, not {provider!r}")
    return provider


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


async def _read_body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        part: bytes = message.get("body", b"")
        size += len(part)
        if size <= _MAX_BODY_BYTES:
            parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts) if size <= _MAX_BODY_BYTES else b""


async def _send_json(send: Send, *, status: int, body: bytes) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
