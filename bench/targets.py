"""What is measured: the direct upstream, the gateway and a peer, each with the request it is sent.

All three answer the same generation from the same upstream; only the API shape differs (the gateway's
``/v1/generate`` versus OpenAI's ``/v1/chat/completions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import orjson

MODEL: Final = "gpt-4o-mini"
PROMPT: Final = "Say hello to the benchmark."
# Sent as the bearer token to every target: LiteLLM refuses to start without a master key.
API_KEY: Final = "sk-bench-5f1d0c2a9e7b4c3d8a6f0e1b2c3d4e5f"

Shape = Literal["openai", "gateway"]


def directive(*, chunks: int, gap_ms: float) -> str:
    """The prompt suffix that sets the fake upstream's stream (bench/upstream.py)."""
    return f"[bench chunks={chunks} gap_ms={gap_ms:g}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    name: str
    port: int
    shape: Shape

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def path(self) -> str:
        return "/v1/generate" if self.shape == "gateway" else "/v1/chat/completions"

    def json_body(self) -> bytes:
        return self._body(PROMPT, stream=False)

    def stream_body(self, *, chunks: int, gap_ms: float) -> bytes:
        return self._body(f"{PROMPT} {directive(chunks=chunks, gap_ms=gap_ms)}", stream=True)

    def _body(self, prompt: str, *, stream: bool) -> bytes:
        if self.shape == "gateway":
            return orjson.dumps({"provider": "openai", "model": MODEL, "user": prompt, "stream": stream})
        return orjson.dumps({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream})
