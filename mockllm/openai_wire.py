"""OpenAI Chat Completions on the wire: `POST /v1/chat/completions`, JSON and SSE (`data: [DONE]`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import orjson

from mockllm.answer import Answer, count_tokens
from mockllm.wire import BadRequest, Frames, Headers, Prompt, message_text, optional_int, stop_tuple

__all__ = ["OpenAIWire"]

_FINISH: Final = {"stop": "stop", "stop_sequence": "stop", "length": "length"}
_ERROR_KIND: Final = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


class OpenAIWire:
    provider = "openai"
    stream_content_type = b"text/event-stream; charset=utf-8"

    def api_key(self, *, headers: Mapping[str, str], query: str) -> str | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return (key.strip() or None) if scheme.lower() == "bearer" else None

    def parse(self, *, body: Any, model: str | None, stream: bool) -> Prompt:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(body.get("model"), str):
            raise BadRequest("'model' and a non-empty 'messages' list are required")
        system = [message_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
        users = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
        everything = " ".join(message_text(m.get("content")) for m in messages)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        options = body.get("stream_options") or {}
        return Prompt(
            model=body["model"],
            system=" ".join(system),
            user=users[-1] if users else "",
            prompt_tokens=count_tokens(everything),
            max_tokens=optional_int(max_tokens, name="max_tokens"),
            stop=stop_tuple(body.get("stop")),
            stream=body.get("stream") is True,
            include_usage=bool(options.get("include_usage")),
        )

    def reply(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> bytes:
        return orjson.dumps(
            {
                "id": reply_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": prompt.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": _FINISH[answer.finish],
                    }
                ],
                "usage": _usage(answer),
                "system_fingerprint": "fp_mockllm",
            }
        )

    def frames(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> Frames:
        usage_field = b',"usage":null' if prompt.include_usage else b""
        envelope = orjson.dumps(
            {
                "id": reply_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": prompt.model,
                "system_fingerprint": "fp_mockllm",
            }
        )[:-1]  # reused as the prefix of every chunk; each chunk closes it

        def chunk(delta: bytes, finish: bytes = b"null") -> bytes:
            choice = b'"choices":[{"index":0,"delta":' + delta + b',"logprobs":null,"finish_reason":' + finish
            return b"data: " + envelope + b"," + choice + b"}]" + usage_field + b"}\n\n"

        tail = chunk(b"{}", orjson.dumps(_FINISH[answer.finish]))
        if prompt.include_usage:
            usage = orjson.dumps(_usage(answer))
            tail += b"data: " + envelope + b',"choices":[],"usage":' + usage + b"}\n\n"
        return Frames(
            head=chunk(b'{"role":"assistant","content":"","refusal":null}'),
            chunks=tuple(chunk(b'{"content":' + orjson.dumps(text) + b"}") for text in answer.chunks),
            tail=tail + b"data: [DONE]\n\n",
            error=b"data: "
            + orjson.dumps(
                _error_json(500, "The server had an error while processing your request (mockllm midstream_error).")
            )
            + b"\n\n",
        )

    def error(self, *, status: int, message: str, reason: str | None = None) -> tuple[bytes, Headers]:
        """`reason` is the `error.code` (e.g. `context_length_exceeded`)."""
        body = _error_json(status, message)
        if reason is not None:
            body["error"]["code"] = reason
        return orjson.dumps(body), []


def _usage(answer: Answer) -> dict[str, int]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }


def _error_json(status: int, message: str) -> dict[str, Any]:
    kind, code = _ERROR_KIND.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
