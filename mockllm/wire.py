"""The shared shape of the three provider wire modules: a parsed `Prompt`, pre-rendered stream `Frames`,
and the `Wire` protocol each of openai_wire / anthropic_wire / gemini_wire implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mockllm.answer import Answer

__all__ = ["BadRequest", "Frames", "Headers", "Prompt", "Wire", "message_text", "optional_int", "stop_tuple"]

Headers = list[tuple[bytes, bytes]]


class BadRequest(ValueError):
    """The request body does not look like the provider's API; answered with 400 in its error shape."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    model: str
    system: str
    user: str  # the last user turn: where directives are read and answer words are picked
    prompt_tokens: int
    max_tokens: int | None
    stop: tuple[str, ...]
    stream: bool
    include_usage: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Frames:
    """A whole stream, rendered before the first byte goes out: `head`, one frame per text chunk, `tail`.
    `error` is the in-band error event used by the midstream_error scenario."""

    head: bytes
    chunks: tuple[bytes, ...]
    tail: bytes
    error: bytes


class Wire(Protocol):
    provider: str
    stream_content_type: bytes

    def api_key(self, *, headers: Mapping[str, str], query: str) -> str | None: ...

    def parse(self, *, body: Any, model: str | None, stream: bool) -> Prompt: ...

    def reply(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> bytes: ...

    def frames(self, *, prompt: Prompt, answer: Answer, reply_id: str) -> Frames: ...

    def error(self, *, status: int, message: str, reason: str | None = None) -> tuple[bytes, Headers]:
        """The provider's error body for `status`; `reason` sets its structured cause (see each wire)."""
        ...


def message_text(content: Any) -> str:
    """Text of a message `content` that is a string or a list of `{"type": "text", "text": ...}` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def optional_int(value: Any, *, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    return value


def stop_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise BadRequest("stop sequences must be a string or a list of strings")
