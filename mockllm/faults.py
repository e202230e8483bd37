"""Broken 200 answers on purpose (`[mock body=html|garbage|truncated|cut|shape|array|strings after=N]`, `huge_kb=N`):
what a captive portal, a wrong base URL, a crashed proxy or a cut connection hands a client instead of the
provider's answer. Pure functions over a prepared `Plan`; the wire modules stay unaware of them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import orjson

from mockllm.answer import Answer
from mockllm.exchange import Plan
from mockllm.wire import Frames

__all__ = ["broken_body", "huge_answer"]

HTML_PAGE: Final = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n"
    b"<body><h1>It works!</h1><p>This is not the API you are looking for.</p></body></html>\n"
)
_COUNTS: Final = frozenset({"prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens",
                            "promptTokenCount", "candidatesTokenCount", "totalTokenCount"})
_HTML: Final = [(b"content-type", b"text/html; charset=utf-8")]
_JSON: Final = [(b"content-type", b"application/json")]
_GARBAGE: Final = b"\x00\x01<<not json at all>>{\"half\": "
_SHAPE: Final = b'{"object":"mockllm.unexpected","data":{"items":[1,2,3]}}'
_ARRAY: Final = b'[{"unexpected":"shape"}]'
# An event the provider's SDK reads as JSON (Anthropic's ignores unknown event names), holding garbage.
_GARBAGE_EVENT: Final = {
    "anthropic": b"event: content_block_delta\ndata: " + _GARBAGE + b"\n\n",
    "gemini": b"data: " + _GARBAGE + b"\r\n\r\n",
}


def broken_body(plan: Plan, *, fault: str, after: int, provider: str) -> Plan:
    """Replace the answer in `plan` (status 200 kept) by `fault`; streams break after `after` text chunks."""
    if fault == "strings":  # JSON answers only: streams are left as they are
        return plan if plan.frames is not None else replace(plan, body=_counts_as_strings(plan.body))
    if plan.frames is None or (fault == "html" and after <= 0):
        return replace(plan, headers=_HTML if fault == "html" else _JSON, frames=None,
                       body=_json_body(plan.body, fault=fault))
    frames = plan.frames
    n = min(max(after, 0), len(frames.chunks))
    kept = frames.head + b"".join(frames.chunks[:n])
    if fault == "garbage":
        event = _GARBAGE_EVENT.get(provider, b"data: " + _GARBAGE + b"\n\n")
        return replace(plan, frames=replace(frames, head=kept + event, chunks=frames.chunks[n:]))
    if fault == "truncated":  # the stream ends cleanly in the middle of an event
        nxt = frames.chunks[n] if n < len(frames.chunks) else frames.tail
        return replace(plan, frames=_only(kept + nxt[: len(nxt) // 2], like=frames))
    if fault == "cut":  # the stream ends cleanly between events, without the provider's last one
        return replace(plan, frames=_only(kept, like=frames))
    odd = {"html": HTML_PAGE, "shape": b"data: " + _SHAPE + b"\n\n", "array": b"data: " + _ARRAY + b"\n\n"}[fault]
    return replace(plan, frames=_only(kept + odd, like=frames))


def huge_answer(answer: Answer, *, kib: int) -> Answer:
    """The answer with its first chunk replaced by one of `kib` KiB (a single huge chunk or JSON field)."""
    word = "huge "
    huge = (word * (kib * 1024 // len(word) + 1))[: kib * 1024]
    return replace(answer, chunks=(huge, *answer.chunks[1:]))


def _json_body(body: bytes, *, fault: str) -> bytes:
    if fault == "html":
        return HTML_PAGE
    if fault in ("truncated", "cut"):
        return body[: len(body) // 2]
    return {"garbage": _GARBAGE, "shape": _SHAPE, "array": _ARRAY}[fault]


def _counts_as_strings(body: bytes) -> bytes:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: str(v) if k in _COUNTS and isinstance(v, int) else walk(v) for k, v in value.items()}
        return [walk(v) for v in value] if isinstance(value, list) else value

    return orjson.dumps(walk(orjson.loads(body)))


def _only(data: bytes, *, like: Frames) -> Frames:
    return Frames(head=data, chunks=(), tail=b"", error=like.error)
