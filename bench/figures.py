"""What one target scored: raw results per repetition, and the medians the table shows."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.streams import StreamSample
from bench.wrk import WrkResult


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamStats:
    """One repetition of timed streams, summarised."""

    ok: int
    count: int
    ttfc_p50_ms: float
    total_p50_ms: float
    transit_p50_ms: float
    transit_p99_ms: float
    cadence_p99_ms: float

    @classmethod
    def of(cls, samples: Sequence[StreamSample]) -> StreamStats:
        good = [s for s in samples if s.ok]
        transit = [t for s in good for t in s.transit_ms]
        cadence = [c for s in good for c in s.cadence_ms()]
        return cls(
            ok=len(good), count=len(samples),
            ttfc_p50_ms=percentile([s.ttfc_ms for s in good if s.ttfc_ms is not None], 50),
            total_p50_ms=percentile([s.total_ms for s in good if s.total_ms is not None], 50),
            transit_p50_ms=percentile(transit, 50), transit_p99_ms=percentile(transit, 99),
            cadence_p99_ms=percentile(cadence, 99),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenStreams:
    """Memory with many slow streams open at once."""

    wanted: int
    opened: int
    rss_before_mb: float
    rss_open_mb: float

    @property
    def per_stream_kb(self) -> float:
        return (self.rss_open_mb - self.rss_before_mb) * 1000 / max(self.wanted, 1)


@dataclass(slots=True)
class Figures:
    """Everything measured for one target, repetitions kept apart."""

    name: str
    json_seq: list[WrkResult] = field(default_factory=list)
    json_c32: list[WrkResult] = field(default_factory=list)
    streams_per_s: list[WrkResult] = field(default_factory=list)
    timed: dict[int, list[StreamStats]] = field(default_factory=dict)
    json_cpu_us: list[float] = field(default_factory=list)
    stream_cpu_ms: list[float] = field(default_factory=list)
    rss_idle_mb: float | None = None
    rss_load_mb: float | None = None
    open_streams: OpenStreams | None = None

    def wrk_median(self, runs: str, pick: Callable[[WrkResult], float]) -> float:
        results: list[WrkResult] = getattr(self, runs)
        return median([pick(r) for r in results])

    def stream_median(self, concurrency: int, pick: Callable[[StreamStats], float]) -> float:
        return median([pick(s) for s in self.timed.get(concurrency, [])])

    def errors(self) -> int:
        wrk_errors = sum(r.errors for r in [*self.json_seq, *self.json_c32, *self.streams_per_s])
        failed = sum(s.count - s.ok for runs in self.timed.values() for s in runs)
        return wrk_errors + failed

    def note_rss(self, rss_mb: float) -> None:
        self.rss_load_mb = max(self.rss_load_mb or 0.0, rss_mb)
