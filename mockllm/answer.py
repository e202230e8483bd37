"""The mock's deterministic answer: a short friendly paragraph that mentions a few prompt words.

Pure functions; results are cached because benchmarks send the same prompt over and over.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

__all__ = ["Answer", "Finish", "answer_from_text", "compose_answer", "count_tokens", "cut_answer"]

Finish = Literal["stop", "length", "stop_sequence"]

_WORD_RE: Final = re.compile(r"[^\W\d_][\w'-]{3,23}")
_STOPWORD_TEXT: Final = (
    "about above after again also because been before being could does doing during each from have "
    "having here into just like more most much only other over please same should some such than that "
    "their them then there these they this those through tell under until very what when where which "
    "while will with would write your yours explain give show make want need know hello thanks thank"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
_TEMPLATES: Final = (
    "Happy to help with {a}! Here is a short answer from the Grompt mock model. Both {b} and {c} "
    "deserve a closer look, and a real model would say much more about them. This reply is made up, "
    "but it streams token by token just like the real thing.",
    "Great question about {a}. The Grompt mock model cannot really think, yet it can talk about {b} and "
    "{c} for a little while. Every word you see here arrives as its own chunk, so you can watch the "
    "stream, the usage counts and the finish reason.",
    "Let us talk about {a}. In short, {b} matters, and {c} matters too, in ways a real model would "
    "explain with care. This is the Grompt mock model speaking: no network, no API key, just plausible "
    "words arriving one after another.",
)
_FILLER_TEXT: Final = "The mock keeps going so that you can watch a longer stream arrive one chunk at a time."
_FILLER: Final = _FILLER_TEXT.split()
_FALLBACK_WORDS: Final = ("this topic", "the details", "the big picture")


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    chunks: tuple[str, ...]
    finish: Finish
    stop_sequence: str | None
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        return len(self.chunks)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def count_tokens(text: str) -> int:
    """Plausible token count: whitespace-separated words."""
    return len(text.split())


def compose_answer(
    *, prompt: str, prompt_tokens: int, chunks: int | None, max_tokens: int | None, stop: tuple[str, ...]
) -> Answer:
    """The answer to `prompt` (already free of directives), cut by `max_tokens` and `stop`."""
    full = _chunks_for(prompt, chunks)
    return cut_answer(full, prompt_tokens=prompt_tokens, max_tokens=max_tokens, stop=stop)


def answer_from_text(*, text: str, prompt_tokens: int, max_tokens: int | None, stop: tuple[str, ...]) -> Answer:
    return cut_answer(_split(text), prompt_tokens=prompt_tokens, max_tokens=max_tokens, stop=stop)


def cut_answer(full: tuple[str, ...], *, prompt_tokens: int, max_tokens: int | None, stop: tuple[str, ...]) -> Answer:
    kept, hit = _cut_at_stop(full, stop) if stop else (full, None)
    if max_tokens is not None and len(kept) > max_tokens:
        return Answer(
            chunks=kept[: max(max_tokens, 0)],
            finish="length",
            stop_sequence=None,
            prompt_tokens=prompt_tokens,
        )
    finish: Finish = "stop_sequence" if hit is not None else "stop"
    return Answer(chunks=kept, finish=finish, stop_sequence=hit, prompt_tokens=prompt_tokens)


def _cut_at_stop(full: tuple[str, ...], stop: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    text = "".join(full)
    found = [(text.find(s), s) for s in stop if s and s in text]
    if not found:
        return full, None
    cut, hit = min(found)
    kept: list[str] = []
    used = 0
    for chunk in full:
        if used + len(chunk) > cut:
            if cut > used:
                kept.append(chunk[: cut - used])
            break
        kept.append(chunk)
        used += len(chunk)
    return tuple(kept), hit


@lru_cache(maxsize=2048)
def _chunks_for(prompt: str, chunks: int | None) -> tuple[str, ...]:
    words = _keywords(prompt)
    a, b, c = (list(words) + list(_FALLBACK_WORDS[len(words) :]))[:3]
    template = _TEMPLATES[zlib.crc32(prompt.encode()) % len(_TEMPLATES)]
    paragraph = template.format(a=a, b=b, c=c).split()
    if chunks is not None:
        filler = _FILLER * (max(chunks - len(paragraph), 0) // len(_FILLER) + 1)
        paragraph = (paragraph + filler)[: max(chunks, 0)]
    return _join_words(paragraph)


def _split(text: str) -> tuple[str, ...]:
    return _join_words(text.split())


def _join_words(words: list[str]) -> tuple[str, ...]:
    return tuple(word if i == 0 else " " + word for i, word in enumerate(words))


def _keywords(prompt: str) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for word in _WORD_RE.findall(prompt):
        key = word.lower()
        if key not in _STOPWORDS and key not in seen:
            seen[key] = word
    return tuple(seen.values())[:3]
