"""Anthropic Messages on the wire: `POST /v1/messages`, JSON and the SSE event sequence.

anthropic 2.x sends the key as `Authorization: Bearer`; older clients and curl use `x-api-key`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from mockllm.answer import Answer, count_tokens
from mockllm.wire import BadRequest, Frames, Headers, Prompt, message_text, optional_int, stop_tuple

__all__ = ["AnthropicWire"]

_STOP_REASON: Final = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens"}
_ERROR_TYPE: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


class AnthropicWire:
    provider = "anthropic"
    stream_content_type = b"text/event-stream; charset=utf-8"

    def api_key(self, *, headers: Mapping[str, str], query: str) -> str | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            return key.strip()
        return headers.get("x-api-key") or None

    def parse(self, *, body: Any, model: str | None, stream: bool) -> Prompt:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(body.get("model"), str):
            raise BadRequest("model: Field required; messages: a non-empty list is required")
        if "max_tokens" not in body:
            raise BadRequest("max_tokens: Field required")
        system = message_text(body.get("system"))
        users = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
        everything = " ".join([system, *(message_text(m.get("content")) for m in messages)])
        return Prompt(
            model=body["model"],
            system=system,
            user=users[-1] if users else "",
            prompt_tokens=count_tokens(everything),
            max_tokens=optional_int(body["max_tokens"], name="max_tokens"),
            stop=stop_tuple(body.get("stop_sequences")),
            stream=body.get("stream") is True,
        )

    def reply(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> bytes:
        message = _message(prompt=prompt, answer=answer, reply_id=reply_id)
        message["content"] = [{"type": "text", "text": answer.text}]
        message["stop_reason"] = _STOP_REASON[answer.finish]
        message["stop_sequence"] = answer.stop_sequence
        message["usage"]["output_tokens"] = answer.completion_tokens
        return orjson.dumps(message)

    def frames(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> Frames:
        start = {
            "type": "message_start",
            "message": _message(prompt=prompt, answer=answer, reply_id=reply_id),
        }
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP_REASON[answer.finish], "stop_sequence": answer.stop_sequence},
            "usage": {"output_tokens": answer.completion_tokens},
        }
        delta_prefix = (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":'
        )
        return Frames(
            head=_event("message_start", start)
            + _event("content_block_start", block)
            + _event("ping", {"type": "ping"}),
            chunks=tuple(delta_prefix + orjson.dumps(text) + b"}}\n\n" for text in answer.chunks),
            tail=_event("content_block_stop", {"type": "content_block_stop", "index": 0})
            + _event("message_delta", delta)
            + _event("message_stop", {"type": "message_stop"}),
            error=_event("error", _error_json(529, "Overloaded (mockllm midstream_error)")),
        )

    def error(self, *, status: int, message: str, reason: str | None = None) -> tuple[bytes, Headers]:
        """`reason` is the `error.type` (e.g. `not_found_error`)."""
        body = _error_json(status, message)
        if reason is not None:
            body["error"]["type"] = reason
        return orjson.dumps(body), [(b"request-id", b"req_mockllm")]


def _message(*, prompt: Prompt, answer: Answer, reply_id: str) -> dict[str, Any]:
    return {
        "id": reply_id,
        "type": "message",
        "role": "assistant",
        "model": prompt.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": answer.prompt_tokens, "output_tokens": 1},
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _error_json(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPE.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mockllm"}
