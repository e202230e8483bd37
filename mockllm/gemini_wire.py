"""Gemini on the wire: `POST /{v1|v1beta}/models/{model}:generateContent` and
`:streamGenerateContent?alt=sse` (each SSE event is a whole GenerateContentResponse)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qs

import orjson

from mockllm.answer import Answer, count_tokens
from mockllm.wire import BadRequest, Frames, Headers, Prompt, message_text, optional_int, stop_tuple

__all__ = ["GeminiWire"]

_FINISH: Final = {"stop": "STOP", "stop_sequence": "STOP", "length": "MAX_TOKENS"}
_STATUS: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GeminiWire:
    provider = "gemini"
    stream_content_type = b"text/event-stream"

    def api_key(self, *, headers: Mapping[str, str], query: str) -> str | None:
        key = headers.get("x-goog-api-key")
        if key:
            return key
        return parse_qs(query).get("key", [None])[0] if "key=" in query else None

    def parse(self, *, body: Any, model: str | None, stream: bool) -> Prompt:
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise BadRequest("* GenerateContentRequest.contents: contents is not specified")
        config = body.get("generationConfig") or {}
        system = _parts_text(body.get("systemInstruction"))
        users = [_parts_text(c) for c in contents if isinstance(c, dict) and c.get("role", "user") == "user"]
        everything = " ".join([system, *(_parts_text(c) for c in contents)])
        return Prompt(
            model=model or "",
            system=system,
            user=users[-1] if users else "",
            prompt_tokens=count_tokens(everything),
            max_tokens=optional_int(config.get("maxOutputTokens"), name="maxOutputTokens"),
            stop=stop_tuple(config.get("stopSequences")),
            stream=stream,
        )

    def reply(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> bytes:
        return orjson.dumps(_response(prompt=prompt, answer=answer, reply_id=reply_id, text=answer.text, last=True))

    def frames(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> Frames:
        texts = answer.chunks or ("",)  # the finish reason and usage must arrive in some chunk
        frames = tuple(
            b"data: "
            + orjson.dumps(
                _response(prompt=prompt, answer=answer, reply_id=reply_id, text=text, last=i == len(texts) - 1)
            )
            + b"\r\n\r\n"
            for i, text in enumerate(texts)
        )
        error = orjson.dumps(_error_json(500, "An internal error has occurred (mockllm midstream_error)."))
        return Frames(head=b"", chunks=frames, tail=b"", error=b"data: " + error + b"\r\n\r\n")

    def error(self, *, status: int, message: str, reason: str | None = None) -> tuple[bytes, Headers]:
        """`reason` is the `ErrorInfo.reason` in `error.details` (e.g. `API_KEY_INVALID`)."""
        body = _error_json(status, message)
        if reason is not None:
            body["error"]["details"] = [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
            ]
        return orjson.dumps(body), []


def _parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return message_text(content.get("parts"))


def _response(*, prompt: Prompt, answer: Answer, reply_id: str, text: str, last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    response: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": prompt.model,
        "responseId": reply_id,
    }
    if last:
        candidate["finishReason"] = _FINISH[answer.finish]
        response["usageMetadata"] = {
            "promptTokenCount": answer.prompt_tokens,
            "candidatesTokenCount": answer.completion_tokens,
            "totalTokenCount": answer.prompt_tokens + answer.completion_tokens,
        }
    return response


def _error_json(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}
