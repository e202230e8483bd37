"""The detail table of one provider: one row per figure, one column per server (bench/verdicts.py judges)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.figures import Figures, StreamStats, median
from bench.wrk import WrkResult


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: list[str]


def fmt(value: float | None, digits: int = 2, *, sign: bool = False) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


class _Table:
    def __init__(self, direct: Figures, others: Sequence[Figures]) -> None:
        self.direct = direct
        self.others = others
        self.rows: list[Row] = []

    def each(self, cell: Callable[[Figures], str], *, direct: bool = True) -> list[str]:
        return [cell(self.direct) if direct else "—", *(cell(f) for f in self.others)]

    def added(self, f: Figures, value: Callable[[Figures], float]) -> float:
        return value(f) - value(self.direct)

    def add(self, label: str, cells: list[str]) -> None:
        self.rows.append(Row(label, cells))


def _stream(c: int, pick: Callable[[StreamStats], float]) -> Callable[[Figures], float]:
    return lambda f: f.stream_median(c, pick)


def _json_rows(t: _Table) -> None:
    def seq(f: Figures) -> str:
        return " / ".join(fmt(f.wrk_median("json_seq", p)) for p in (p50, _p90, p99))

    t.add("JSON, sequential: latency p50 / p90 / p99 (ms)", t.each(seq))
    t.add("JSON, sequential: added p50 / p99 (ms)", t.each(
        lambda f: f"{fmt(added_json(t.direct, f, p50), sign=True)} / {fmt(added_json(t.direct, f, p99), sign=True)}",
        direct=False))
    t.add("JSON at c=32: requests/s", t.each(lambda f: fmt(f.wrk_median("json_c32", rps), 0)))
    t.add("JSON at c=32: server CPU per request (µs)",
          t.each(lambda f: fmt(median(f.json_cpu_us), 0), direct=False))
    t.add("JSON at c=32: latency p50 / p99 (ms)",
          t.each(lambda f: f"{fmt(f.wrk_median('json_c32', p50))} / {fmt(f.wrk_median('json_c32', p99))}"))


def added_json(direct: Figures, f: Figures, pick: Callable[[WrkResult], float]) -> float:
    return f.wrk_median("json_seq", pick) - direct.wrk_median("json_seq", pick)


def _with_added(t: _Table, value: Callable[[Figures], float]) -> Callable[[Figures], str]:
    """A cell showing the value, and for anything but the direct upstream what it adds to it."""

    def cell(f: Figures) -> str:
        if f is t.direct:
            return fmt(value(f))
        return f"{fmt(value(f))} ({fmt(t.added(f, value), sign=True)})"

    return cell


def _pair(a: Callable[[Figures], float], b: Callable[[Figures], float]) -> Callable[[Figures], str]:
    return lambda f: f"{fmt(a(f))} / {fmt(b(f))}"


def _stream_rows(t: _Table, concurrencies: Sequence[int]) -> None:
    for c in concurrencies:
        ttfc = _stream(c, lambda s: s.ttfc_p50_ms)
        t.add(f"stream c={c}: time to first chunk p50 (ms), added", t.each(_with_added(t, ttfc)))
    for c in concurrencies:
        total = _stream(c, lambda s: s.total_p50_ms)
        t.add(f"stream c={c}: total time of a 50-chunk stream p50 (ms)", t.each(_with_added(t, total)))
    for c in concurrencies:
        transit = _pair(_stream(c, lambda s: s.transit_p50_ms), _stream(c, lambda s: s.transit_p99_ms))
        t.add(f"stream c={c}: per-chunk transit p50 / p99 (ms)", t.each(transit))
    for c in concurrencies:
        cadence = _stream(c, lambda s: s.cadence_p99_ms)
        t.add(f"stream c={c}: cadence distortion p99 (ms), added", t.each(_with_added(t, cadence)))
    t.add("50-chunk streams/s at c=16 (no gap)", t.each(lambda f: fmt(f.wrk_median("streams_per_s", rps), 0)))
    t.add("50-chunk streams: server CPU per stream (ms)",
          t.each(lambda f: fmt(median(f.stream_cpu_ms)), direct=False))


def _memory_rows(t: _Table) -> None:
    t.add("RSS idle, after warm-up (MB; the server's, all providers)", t.each(lambda f: fmt(f.rss_idle_mb, 1),
                                                                             direct=False))
    t.add("RSS peak under load (MB)", t.each(lambda f: fmt(f.rss_load_mb, 1), direct=False))

    def opened(f: Figures) -> str:
        o = f.open_streams
        if o is None:
            return "—"
        return f"{o.opened}/{o.wanted} open: {fmt(o.rss_open_mb, 1)} MB, {fmt(o.per_stream_kb, 1)} KB/stream"

    t.add("RSS with slow streams open (fresh server)", t.each(opened, direct=False))
    t.add("errors (non-2xx, socket errors, incomplete streams)", t.each(lambda f: str(f.errors())))


def detail_table(direct: Figures, others: Sequence[Figures], *, concurrencies: Sequence[int]) -> str:
    """Every figure of one provider: the direct upstream, the gateway and the peers side by side."""
    t = _Table(direct, others)
    _json_rows(t)
    _stream_rows(t, concurrencies)
    _memory_rows(t)
    head = ["figure", direct.name, *(f.name for f in others)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [f"| {r.label} | " + " | ".join(r.cells) + " |" for r in t.rows]
    return "\n".join(lines)


def p50(r: WrkResult) -> float:
    return r.p50_ms


def _p90(r: WrkResult) -> float:
    return r.p90_ms


def p99(r: WrkResult) -> float:
    return r.p99_ms


def rps(r: WrkResult) -> float:
    return r.requests_per_s
