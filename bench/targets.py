"""What is measured: the direct upstream, the gateway and the peers, each with the request it is sent.

All answer the same generation from the same fake upstream, per provider; only the API shape differs:
the gateway's ``/v1/generate``, each provider's own protocol for the direct upstream, OpenAI's
``/v1/chat/completions`` for the peers (which translate it to the provider's protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import orjson

from bench.wire import Protocol

MODELS: Final[dict[Protocol, str]] = {
    "openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
}
MODEL: Final = MODELS["openai"]
PROMPT: Final = "Say hello to the benchmark."
# Sent as the bearer token to every target: LiteLLM refuses to start without a master key.
API_KEY: Final = "sk-bench-5f1d0c2a9e7b4c3d8a6f0e1b2c3d4e5f"

# direct: the provider's own protocol; gateway: /v1/generate; chat: OpenAI Chat Completions (the peers).
Shape = Literal["direct", "gateway", "chat"]


def directive(*, chunks: int, gap_ms: float) -> str:
    """The prompt suffix that sets the fake upstream's stream (bench/upstream.py)."""
    return f"[bench chunks={chunks} gap_ms={gap_ms:g}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    name: str
    port: int
    shape: Shape
    provider: Protocol = "openai"
    # Extra request headers (Portkey routes by headers).
    headers: tuple[tuple[str, str], ...] = ()
    # The model name the target is sent (LiteLLM routes by a model alias of its config).
    model: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def path(self, *, stream: bool) -> str:
        if self.shape == "gateway":
            return "/v1/generate"
        if self.shape == "chat" or self.provider == "openai":
            return "/v1/chat/completions"
        if self.provider == "anthropic":
            return "/v1/messages"
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/v1beta/models/{MODELS['gemini']}:{action}"

    def json_body(self) -> bytes:
        return self._body(PROMPT, stream=False)

    def stream_body(self, *, chunks: int, gap_ms: float) -> bytes:
        return self._body(f"{PROMPT} {directive(chunks=chunks, gap_ms=gap_ms)}", stream=True)

    def _body(self, prompt: str, *, stream: bool) -> bytes:
        model = self.model or MODELS[self.provider]
        if self.shape == "gateway":
            return orjson.dumps({"provider": self.provider, "model": model, "user": prompt, "stream": stream})
        user = [{"role": "user", "content": prompt}]
        if self.shape == "chat" or self.provider == "openai":
            return orjson.dumps({"model": model, "messages": user, "stream": stream})
        if self.provider == "anthropic":
            return orjson.dumps({"model": model, "max_tokens": 4096, "messages": user, "stream": stream})
        return orjson.dumps({"contents": [{"role": "user", "parts": [{"text": prompt}]}]})
