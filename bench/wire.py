"""The fake upstream's answers in the three providers' wire protocols, precomputed where they can be.

OpenAI Chat Completions (``POST …/chat/completions``), Anthropic Messages (``POST …/v1/messages``) and
Gemini (``POST …/models/<m>:generateContent`` and ``:streamGenerateContent?alt=sse``): a JSON answer, or
an SSE stream of N content chunks framed as HTTP/1.1 chunks, with each protocol's head and tail events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import orjson

Protocol = Literal["openai", "anthropic", "gemini"]
PROTOCOLS: Final[tuple[Protocol, ...]] = ("openai", "anthropic", "gemini")
ANSWER: Final = "Hello from the bench upstream."
_OPENAI_USAGE: Final = {"prompt_tokens": 12, "completion_tokens": 50, "total_tokens": 62}
_SSE_HEAD: Final = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def frame(event: bytes) -> bytes:
    """One HTTP/1.1 chunk holding one SSE event."""
    return b"%x\r\n%s\r\n" % (len(event), event)


def json_response(body: object) -> bytes:
    data = orjson.dumps(body)
    return b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data)


@dataclass(frozen=True, slots=True)
class Wire:
    """One protocol's precomputed answer, stream head and tail, and how to frame one content chunk."""

    json: bytes
    head: bytes
    content: Callable[[str], bytes]
    tail: bytes


# --- OpenAI Chat Completions ---------------------------------------------------------------------------

def _openai_event(choices: list[object], **extra: object) -> bytes:
    chunk = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
             "model": "gpt-4o-mini", "choices": choices, **extra}
    return frame(b"data: %s\n\n" % orjson.dumps(chunk))


def _openai_content(text: str) -> bytes:
    return _openai_event([{"index": 0, "delta": {"content": text}, "finish_reason": None}])


_OPENAI: Final = Wire(
    json=json_response({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": _OPENAI_USAGE,
    }),
    head=_SSE_HEAD + _openai_event([{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "finish_reason": None}]),
    content=_openai_content,
    tail=(_openai_event([{"index": 0, "delta": {}, "finish_reason": "stop"}]) + _openai_event([], usage=_OPENAI_USAGE)
          + frame(b"data: [DONE]\n\n") + b"0\r\n\r\n"),
)


# --- Anthropic Messages --------------------------------------------------------------------------------

def _anthropic_event(name: str, data: object) -> bytes:
    return frame(b"event: %s\ndata: %s\n\n" % (name.encode(), orjson.dumps(data)))


def _anthropic_message(**fields: object) -> dict[str, object]:
    return {"id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 1}, **fields}


def _anthropic_content(text: str) -> bytes:
    return _anthropic_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                    "delta": {"type": "text_delta", "text": text}})


_ANTHROPIC: Final = Wire(
    json=json_response(_anthropic_message(content=[{"type": "text", "text": ANSWER}], stop_reason="end_turn",
                                          usage={"input_tokens": 12, "output_tokens": 50})),
    head=(_SSE_HEAD + _anthropic_event("message_start", {"type": "message_start", "message": _anthropic_message()})
          + _anthropic_event("content_block_start", {"type": "content_block_start", "index": 0,
                                                     "content_block": {"type": "text", "text": ""}})
          + _anthropic_event("ping", {"type": "ping"})),
    content=_anthropic_content,
    tail=(_anthropic_event("content_block_stop", {"type": "content_block_stop", "index": 0})
          + _anthropic_event("message_delta", {"type": "message_delta",
                                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                               "usage": {"output_tokens": 50}})
          + _anthropic_event("message_stop", {"type": "message_stop"}) + b"0\r\n\r\n"),
)


# --- Gemini generateContent / streamGenerateContent ----------------------------------------------------

def _gemini_response(text: str, *, last: bool) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    response: dict[str, object] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash",
                                   "responseId": "bench"}
    if last:
        candidate["finishReason"] = "STOP"
        response["usageMetadata"] = {"promptTokenCount": 12, "candidatesTokenCount": 50, "totalTokenCount": 62}
    return response


def _gemini_content(text: str) -> bytes:
    return frame(b"data: %s\r\n\r\n" % orjson.dumps(_gemini_response(text, last=False)))


_GEMINI: Final = Wire(
    json=json_response(_gemini_response(ANSWER, last=True)),
    head=_SSE_HEAD,
    content=_gemini_content,
    # Gemini's last event carries the finish reason and usage (here with no text of its own).
    tail=frame(b"data: %s\r\n\r\n" % orjson.dumps(_gemini_response("", last=True))) + b"0\r\n\r\n",
)

WIRES: Final[dict[Protocol, Wire]] = {"openai": _OPENAI, "anthropic": _ANTHROPIC, "gemini": _GEMINI}


def route(request_line: bytes, body: bytes) -> tuple[Protocol, bool] | None:
    """Which protocol a request speaks and whether it asks for a stream; None for an unknown route."""
    if not request_line.startswith(b"POST "):
        return None
    target = request_line.split(b" ", 2)[1]
    if target.endswith(b"/chat/completions"):
        return "openai", _asks_stream(body)
    if target.endswith(b"/messages"):
        return "anthropic", _asks_stream(body)
    if b":streamGenerateContent" in target:
        return "gemini", True
    if b":generateContent" in target:
        return "gemini", False
    return None


def _asks_stream(body: bytes) -> bool:
    at = body.find(b'"stream"')
    return at >= 0 and body[at + 8 : at + 16].lstrip(b" :").startswith(b"true")
