"""The provider contract's value types, translated one to one from the front end's TypeScript (docs/api.md § Types).

Imports only the standard library: never django, ninja, grompt_gateway, proxy or guards.
Python names are snake_case; ``to_json`` renders the contract's camelCase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

ProviderId = Literal["openai", "anthropic", "gemini"]
PROVIDER_IDS: Final[tuple[ProviderId, ...]] = get_args(ProviderId)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenOptions:
    """Sampling options; ``None`` means "the provider's default"."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop_sequences: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GenInput:
    """One prompt: an optional system instruction and the user's text."""

    user: str
    system: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GenUsage:
    """Token counts of one generation."""

    prompt: int
    completion: int
    total: int

    def to_json(self) -> dict[str, int]:
        """Return the contract's JSON shape."""
        return {"prompt": self.prompt, "completion": self.completion, "total": self.total}


@dataclass(frozen=True, slots=True, kw_only=True)
class GenResult:
    """The answer of a non-streamed generation."""

    text: str
    provider: ProviderId
    model: str
    usage: GenUsage | None = None
    finish_reason: str | None = None

    def to_json(self) -> dict[str, object]:
        """Return the contract's JSON shape (camelCase, optional fields left out when unknown)."""
        body: dict[str, object] = {"text": self.text, "provider": self.provider, "model": self.model}
        if self.usage is not None:
            body["usage"] = self.usage.to_json()
        if self.finish_reason is not None:
            body["finishReason"] = self.finish_reason
        return body
