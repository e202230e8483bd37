"""Scenarios: what the mock does with one request (fail, hang, stall, reset, drip), and where they come from.

Two sources: a queue scripted in-process (`ScenarioBook.enqueue`) and a `[mock key=value ...]` directive
written in the prompt, so out-of-process clients can trigger the same behaviours.
"""

from __future__ import annotations

import re
import shlex
import threading
from collections import deque
from dataclasses import dataclass, fields
from typing import Any, Final

__all__ = ["BODY_FAULTS", "DirectiveError", "Scenario", "ScenarioBook", "find_directive", "strip_directives"]

_DIRECTIVE_RE: Final = re.compile(r"\[mock(?:\s+[^\]]*)?\]")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
# A 200 that is not the provider's answer (mockllm/faults.py): an HTML page, bytes that are not JSON, JSON cut
# in the middle (a stream cut mid-event), a stream cut between events, JSON of another shape, a JSON array.
# `strings`: the JSON answer's token counts as strings.
BODY_FAULTS: Final = frozenset({"html", "garbage", "truncated", "cut", "shape", "array", "strings"})


class DirectiveError(ValueError):
    """A `[mock ...]` directive that cannot be understood (the mock answers 400)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """One behaviour. Every field left at None/False means "behave normally".

    Chunk counts (`stall_after`, `reset_after`, `midstream_error`) are the number of text chunks sent
    before the event. `times` limits a directive (or a queued entry) to its first N uses.
    """

    status: int | None = None  # answer with this HTTP error status, in the provider's error shape
    retry_after_s: float | None = None  # add `Retry-After` to the error response
    times: int | None = None
    chunks: int | None = None  # length of the answer, in chunks
    gap_ms: float | None = None  # delay between chunks (overrides the mock's chunk_delay_s)
    delay_ms: float | None = None  # delay before the response headers
    hang: bool = False  # never send headers; wait until the client goes away
    stall_after: int | None = None  # stop sending (keep the connection open) after N chunks
    reset_after: int | None = None  # drop the TCP connection after N chunks
    midstream_error: int | None = None  # in-band provider error event after N chunks (streams only)
    text: str | None = None  # exact answer text instead of the generated one
    body: str | None = None  # a 200 that is not the provider's answer: one of BODY_FAULTS
    after: int | None = None  # streams: the `body` fault comes after this many text chunks (default 0)
    silence: bool = False  # send the response head, then nothing; wait until the client goes away
    huge_kb: int | None = None  # the first text chunk (or the JSON answer's text) is this many KiB
    reason: str | None = None  # with `status`: the structured cause in the error body (code / type / reason)
    tag: str | None = None  # free label: makes otherwise equal directives count `times` separately

    @classmethod
    def parse(cls, spec: str) -> Scenario:
        """Build from `key=value` pairs, e.g. `status=429 times=2 retry_after=1` (brackets optional)."""
        body = spec.strip()
        if body.startswith("[mock"):
            body = body[len("[mock") : -1]
        try:
            pairs = shlex.split(body)
        except ValueError as exc:
            raise DirectiveError("mockllm: unbalanced quotes in directive") from exc
        values: dict[str, Any] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            name = _ALIASES.get(key, key)
            if not sep or name not in _CONVERTERS:
                raise DirectiveError(f"mockllm: unknown directive item {key!r}")
            values[name] = _convert(name=name, raw=raw)
        if values.get("body") not in (None, *BODY_FAULTS):
            raise DirectiveError(f"mockllm: body must be one of {', '.join(sorted(BODY_FAULTS))}")
        return cls(**values)


_PLAIN: Final = Scenario()
_ALIASES: Final = {"retry_after": "retry_after_s"}
_CONVERTERS: Final = {f.name: str(f.type) for f in fields(Scenario)}


def _convert(*, name: str, raw: str) -> Any:
    kind = _CONVERTERS[name]
    try:
        if kind == "bool":
            if raw.lower() not in _TRUE | _FALSE:
                raise ValueError(raw)
            return raw.lower() in _TRUE
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError as exc:
        raise DirectiveError(f"mockllm: bad value for {name!r}") from exc
    return raw


def find_directive(text: str) -> str | None:
    """The first `[mock ...]` directive in `text`, verbatim, or None."""
    match = _DIRECTIVE_RE.search(text)
    return match.group(0) if match else None


def strip_directives(text: str) -> str:
    return _DIRECTIVE_RE.sub(" ", text) if "[mock" in text else text


@dataclass(slots=True)
class _Entry:
    scenario: Scenario
    provider: str | None
    left: int


class ScenarioBook:
    """Thread-safe: the scripted queue, plus how often each directive text has been used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Entry] = deque()
        self._directive_uses: dict[str, int] = {}
        self._parsed: dict[str, Scenario] = {}

    def enqueue(self, scenario: Scenario, *, provider: str | None = None, times: int | None = None) -> None:
        count = times if times is not None else (scenario.times or 1)
        with self._lock:
            self._queue.append(_Entry(scenario=scenario, provider=provider, left=count))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._directive_uses.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(entry.left for entry in self._queue)

    def pick(self, *, provider: str, directive: str | None) -> Scenario:
        """The scenario for the next request: the first queued entry for this provider, else the directive."""
        with self._lock:
            for entry in self._queue:
                if entry.provider in (None, provider):
                    entry.left -= 1
                    if entry.left <= 0:
                        self._queue.remove(entry)
                    return entry.scenario
            if directive is None:
                return _PLAIN
            scenario = self._parsed.get(directive) or self._parse_cached(directive)
            used = self._directive_uses.get(directive, 0) + 1
            self._directive_uses[directive] = used
        if scenario.times is not None and used > scenario.times:
            return _PLAIN
        return scenario

    def _parse_cached(self, directive: str) -> Scenario:
        scenario = Scenario.parse(directive)
        if len(self._parsed) < 4096:  # bounded: directives come from arbitrary prompts
            self._parsed[directive] = scenario
        return scenario
