"""The markdown table: one row per figure, one column per target, the gateway's targets and verdicts."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.figures import Figures, StreamStats, median
from bench.wrk import WrkResult

# The targets for one worker; "peer" is LiteLLM measured in the same run.
JSON_ADDED_P50_MS = 1.5
JSON_ADDED_P99_MS = 5.0
RPS_FLOOR = 950.0  # the Node gateway's best figure on this kind of machine
RPS_PEER_FACTOR = 5.0
TTFC_ADDED_MS = 2.0
CADENCE_ADDED_MS = 1.0
STREAMS_PER_S = 400.0
RSS_IDLE_MB = 80.0
PER_STREAM_KB = 50.0


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cells: list[str]
    target: str = ""
    met: bool | None = None


def _f(value: float | None, digits: int = 2, *, sign: bool = False) -> str:
    if value is None or math.isnan(value):
        return "—"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("✅" if met else "❌")


class _Table:
    def __init__(self, direct: Figures, others: Sequence[Figures]) -> None:
        self.direct = direct
        self.others = others
        self.rows: list[Row] = []

    def each(self, cell: Callable[[Figures], str], *, direct: bool = True) -> list[str]:
        return [cell(self.direct) if direct else "—", *(cell(f) for f in self.others)]

    def added(self, f: Figures, value: Callable[[Figures], float]) -> float:
        return value(f) - value(self.direct)

    def add(self, label: str, cells: list[str], target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(label, cells, target, met))


def _stream(c: int, pick: Callable[[StreamStats], float]) -> Callable[[Figures], float]:
    return lambda f: f.stream_median(c, pick)


def _json_rows(t: _Table, gateway: Figures, peer: Figures | None) -> None:
    def seq(f: Figures) -> str:
        return " / ".join(_f(f.wrk_median("json_seq", p)) for p in (_p50, _p90, _p99))

    t.add("JSON, sequential: latency p50 / p90 / p99 (ms)", t.each(seq))
    a50 = {f.name: t.added(f, lambda x: x.wrk_median("json_seq", _p50)) for f in t.others}
    a99 = {f.name: t.added(f, lambda x: x.wrk_median("json_seq", _p99)) for f in t.others}
    t.add("JSON, sequential: added p50 / p99 (ms)",
          t.each(lambda f: f"{_f(a50[f.name], sign=True)} / {_f(a99[f.name], sign=True)}", direct=False),
          f"≤ {JSON_ADDED_P50_MS} / ≤ {JSON_ADDED_P99_MS}",
          a50[gateway.name] <= JSON_ADDED_P50_MS and a99[gateway.name] <= JSON_ADDED_P99_MS)
    rps = gateway.wrk_median("json_c32", _rps)
    floor = max(RPS_FLOOR, RPS_PEER_FACTOR * peer.wrk_median("json_c32", _rps) if peer else 0.0)
    peer_note = f" and ≥ {RPS_PEER_FACTOR:g}× {peer.name}" if peer else ""
    t.add("JSON at c=32: requests/s", t.each(lambda f: _f(f.wrk_median("json_c32", _rps), 0)),
          f"≥ {RPS_FLOOR:g}{peer_note}", rps >= floor)
    t.add("JSON at c=32: server CPU per request (µs)",
          t.each(lambda f: _f(median(f.json_cpu_us), 0), direct=False))
    t.add("JSON at c=32: latency p50 / p99 (ms)",
          t.each(lambda f: f"{_f(f.wrk_median('json_c32', _p50))} / {_f(f.wrk_median('json_c32', _p99))}"))


def _with_added(t: _Table, value: Callable[[Figures], float]) -> Callable[[Figures], str]:
    """A cell showing the value, and for anything but the direct upstream what it adds to it."""

    def cell(f: Figures) -> str:
        if f is t.direct:
            return _f(value(f))
        return f"{_f(value(f))} ({_f(t.added(f, value), sign=True)})"

    return cell


def _pair(a: Callable[[Figures], float], b: Callable[[Figures], float]) -> Callable[[Figures], str]:
    return lambda f: f"{_f(a(f))} / {_f(b(f))}"


def _stream_rows(t: _Table, gateway: Figures, concurrencies: Sequence[int]) -> None:
    for c in concurrencies:
        ttfc = _stream(c, lambda s: s.ttfc_p50_ms)
        t.add(f"stream c={c}: time to first chunk p50 (ms), added", t.each(_with_added(t, ttfc)),
              f"added ≤ {TTFC_ADDED_MS:g}" if c == 1 else "",
              t.added(gateway, ttfc) <= TTFC_ADDED_MS if c == 1 else None)
    for c in concurrencies:
        total = _stream(c, lambda s: s.total_p50_ms)
        t.add(f"stream c={c}: total time of a 50-chunk stream p50 (ms)", t.each(_with_added(t, total)))
    for c in concurrencies:
        transit = _pair(_stream(c, lambda s: s.transit_p50_ms), _stream(c, lambda s: s.transit_p99_ms))
        t.add(f"stream c={c}: per-chunk transit p50 / p99 (ms)", t.each(transit))
    for c in concurrencies:
        cadence = _stream(c, lambda s: s.cadence_p99_ms)
        t.add(f"stream c={c}: cadence distortion p99 (ms), added", t.each(_with_added(t, cadence)),
              f"added ≤ {CADENCE_ADDED_MS:g}", t.added(gateway, cadence) <= CADENCE_ADDED_MS)
    sps = gateway.wrk_median("streams_per_s", _rps)
    t.add("50-chunk streams/s at c=16 (no gap)", t.each(lambda f: _f(f.wrk_median("streams_per_s", _rps), 0)),
          f"≥ {STREAMS_PER_S:g}", sps >= STREAMS_PER_S)
    t.add("50-chunk streams: server CPU per stream (ms)",
          t.each(lambda f: _f(median(f.stream_cpu_ms)), direct=False))


def _memory_rows(t: _Table, gateway: Figures) -> None:
    t.add("RSS idle, after warm-up (MB)", t.each(lambda f: _f(f.rss_idle_mb, 1), direct=False),
          f"≤ {RSS_IDLE_MB:g}", gateway.rss_idle_mb is not None and gateway.rss_idle_mb <= RSS_IDLE_MB)
    t.add("RSS peak under load (MB)", t.each(lambda f: _f(f.rss_load_mb, 1), direct=False))

    def opened(f: Figures) -> str:
        o = f.open_streams
        if o is None:
            return "—"
        return f"{o.opened}/{o.wanted} open: {_f(o.rss_open_mb, 1)} MB, {_f(o.per_stream_kb, 1)} KB/stream"

    o = gateway.open_streams
    t.add("RSS with slow streams open", t.each(opened, direct=False), f"≤ {PER_STREAM_KB:g} KB/stream",
          None if o is None else o.per_stream_kb <= PER_STREAM_KB and o.opened == o.wanted)
    t.add("errors (non-2xx, socket errors, incomplete streams)", t.each(lambda f: str(f.errors())))


def table(direct: Figures, gateway: Figures, peer: Figures | None, *, concurrencies: Sequence[int]) -> str:
    """Render the comparison as a markdown table."""
    others = [gateway, *([peer] if peer else [])]
    t = _Table(direct, others)
    _json_rows(t, gateway, peer)
    _stream_rows(t, gateway, concurrencies)
    _memory_rows(t, gateway)
    head = ["figure", direct.name, *(f.name for f in others), "gateway target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += [f"| {r.label} | " + " | ".join([*r.cells, r.target, _verdict(r.met)]) + " |" for r in t.rows]
    return "\n".join(lines)


def _p50(r: WrkResult) -> float:
    return r.p50_ms


def _p90(r: WrkResult) -> float:
    return r.p90_ms


def _p99(r: WrkResult) -> float:
    return r.p99_ms


def _rps(r: WrkResult) -> float:
    return r.requests_per_s
