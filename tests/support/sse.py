"""Read an SSE response the way a browser does, keeping each event's arrival time."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class SSEEvent:
    arrived_s: float
    id: str | None
    data: dict[str, Any]


@dataclass
class SSETranscript:
    events: list[SSEEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [event.data["type"] for event in self.events]

    @property
    def text(self) -> str:
        return "".join(e.data["text"] for e in self.events if e.data["type"] == "chunk")

    def last(self, kind: str) -> dict[str, Any]:
        return next(e.data for e in reversed(self.events) if e.data["type"] == kind)


def read_sse(response: httpx.Response, *, started: float | None = None, max_events: int = 10_000) -> SSETranscript:
    """Parse ``response`` (opened with ``stream=True``) until it ends or ``max_events`` were read."""
    started = time.perf_counter() if started is None else started
    transcript = SSETranscript()
    event_id: str | None = None
    for line in response.iter_lines():
        if line.startswith(":"):
            transcript.comments.append(line[1:].strip())
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data = json.loads(line[5:])
            transcript.events.append(SSEEvent(time.perf_counter() - started, event_id, data))
            event_id = None
            if len(transcript.events) >= max_events:
                break
    return transcript
