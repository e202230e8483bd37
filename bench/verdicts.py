"""The run's summary: per provider, the gateway and the peers side by side, and the issue's targets judged.

Targets (one worker, each judged within the same run): Anthropic and Gemini within 1.25× of the OpenAI
path's server CPU per request (JSON and stream); requests/s and streams/s ≥ Portkey's; added latency
p50 ≤ 1.0 ms and p99 ≤ 3 ms; idle RSS ≤ 90 MB with three providers, ≤ 79 MB with one; ≤ 50 KB per open
stream; start-up to a ready /v1/health ≤ 0.8 s; two workers ≥ 1.8× one (against the last 1-worker run).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.figures import Figures, median
from bench.report import added_json, fmt, p50, p99, rps
from bench.run import Outcome, Subject
from bench.wire import Protocol

CPU_RATIO = 1.25
ADDED_P50_MS = 1.0
ADDED_P99_MS = 3.0
RSS_ALL_MB = 90.0
RSS_ONE_MB = 79.0
PER_STREAM_KB = 50.0
READY_S = 0.8
TWO_WORKERS = 1.8


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    figure: str
    met: bool | None


def by_provider(outcome: Outcome) -> dict[Protocol, list[Subject]]:
    out: dict[Protocol, list[Subject]] = {}
    for s in outcome.subjects:
        out.setdefault(s.target.provider, []).append(s)
    return out


def _gateway(subjects: Sequence[Subject]) -> Figures:
    return next(s.figures for s in subjects if s.target.shape == "gateway")


def _peer(subjects: Sequence[Subject], prefix: str) -> Figures | None:
    return next((s.figures for s in subjects if s.figures.name.startswith(prefix)), None)


def summary_table(outcome: Outcome) -> str:
    """The README's table: per provider and figure, each server side by side."""
    groups = by_provider(outcome)
    servers = [s.figures.name for s in next(iter(groups.values())) if s.server is not None]
    head = ["provider", "figure", *servers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows: list[tuple[str, Callable[[Figures, Figures], str]]] = [
        ("JSON req/s at c=32 · 50-chunk streams/s at c=16",
         lambda f, d: f"{fmt(f.wrk_median('json_c32', rps), 0)} · {fmt(f.wrk_median('streams_per_s', rps), 0)}"),
        ("server CPU per JSON request (µs) · per stream (ms)",
         lambda f, d: f"{fmt(median(f.json_cpu_us), 0)} · {fmt(median(f.stream_cpu_ms))}"),
        ("added latency, sequential JSON, p50 · p99 (ms)",
         lambda f, d: f"{fmt(added_json(d, f, p50), sign=True)} · {fmt(added_json(d, f, p99), sign=True)}"),
        ("time to first chunk p50, c=1, added (ms)",
         lambda f, d: fmt(f.stream_median(1, lambda x: x.ttfc_p50_ms) - d.stream_median(1, lambda x: x.ttfc_p50_ms),
                          sign=True)),
        ("RSS per open stream (KB)",
         lambda f, d: fmt(f.open_streams.per_stream_kb, 1) if f.open_streams else "—"),
        ("errors", lambda f, d: str(f.errors())),
    ]
    for provider, subjects in groups.items():
        direct = subjects[0].figures
        for label, cell in rows:
            cells = [cell(s.figures, direct) for s in subjects if s.server is not None]
            lines.append(f"| {provider} | {label} | " + " | ".join(cells) + " |")
    idle = [f"{fmt(s.figures.rss_idle_mb, 1)}" for s in next(iter(groups.values())) if s.server is not None]
    lines.append("| all | RSS idle, every provider configured (MB) | " + " | ".join(idle) + " |")
    ready = [_median_s(outcome.servers.ready_s.get(s.server, [])) for s in next(iter(groups.values()))
             if s.server is not None]
    lines.append("| all | start-up to a ready health endpoint (s, median of starts) | " + " | ".join(ready) + " |")
    return "\n".join(lines)


def _median_s(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "—"


def verdicts(outcome: Outcome, *, one_worker: dict[str, Any] | None, workers: int = 1) -> list[Verdict]:
    groups = by_provider(outcome)
    out: list[Verdict] = []
    base = _gateway(groups["openai"]) if "openai" in groups else None
    for provider, subjects in groups.items():
        gw = _gateway(subjects)
        direct = subjects[0].figures
        if base is not None and provider != "openai":
            for kind, values, base_values in (("JSON", gw.json_cpu_us, base.json_cpu_us),
                                              ("stream", gw.stream_cpu_ms, base.stream_cpu_ms)):
                ratio = median(values) / median(base_values)
                out.append(Verdict(f"{provider} {kind} CPU per request ≤ {CPU_RATIO}× OpenAI's",
                                   f"{ratio:.2f}× ({fmt(median(values))} vs {fmt(median(base_values))})",
                                   ratio <= CPU_RATIO))
        a50, a99 = added_json(direct, gw, p50), added_json(direct, gw, p99)
        out.append(Verdict(f"{provider} added latency p50 ≤ {ADDED_P50_MS} ms, p99 ≤ {ADDED_P99_MS} ms",
                           f"{a50:+.2f} / {a99:+.2f} ms", a50 <= ADDED_P50_MS and a99 <= ADDED_P99_MS))
        portkey = _peer(subjects, "Portkey")
        if portkey is not None:
            for label, runs in (("JSON req/s at c=32", "json_c32"), ("streams/s at c=16", "streams_per_s")):
                ours, theirs = gw.wrk_median(runs, rps), portkey.wrk_median(runs, rps)
                broken = portkey.errors() > 0
                out.append(Verdict(f"{provider} {label} ≥ Portkey's", f"{ours:.0f} vs {theirs:.0f}"
                                   + (" (Portkey had errors)" if broken else ""), ours >= theirs))
        o = gw.open_streams
        if o is not None:
            out.append(Verdict(f"{provider} RSS per open stream ≤ {PER_STREAM_KB:g} KB",
                               f"{o.per_stream_kb:.1f} KB ({o.opened}/{o.wanted} open)",
                               o.per_stream_kb <= PER_STREAM_KB and o.opened == o.wanted))
    gw_all = _gateway(next(iter(groups.values())))
    if gw_all.rss_idle_mb is not None and workers == 1:  # the memory targets are per worker
        out.append(Verdict(f"idle RSS, every provider configured ≤ {RSS_ALL_MB:g} MB", f"{gw_all.rss_idle_mb:.1f} MB",
                           gw_all.rss_idle_mb <= RSS_ALL_MB))
    for provider, rss in outcome.rss_idle_one_mb.items():
        out.append(Verdict(f"idle RSS, {provider} alone ≤ {RSS_ONE_MB:g} MB", f"{rss:.1f} MB", rss <= RSS_ONE_MB))
    readies = [*outcome.servers.ready_s.get("gateway", []), *outcome.ready_one_s.values()]
    if readies:
        worst = max(readies)
        out.append(Verdict(f"start-up to a ready /v1/health ≤ {READY_S} s",
                           f"median {statistics.median(readies):.2f} s, worst {worst:.2f} s ({len(readies)} starts)",
                           statistics.median(readies) <= READY_S))
    if one_worker:
        for provider, subjects in groups.items():
            gw = _gateway(subjects)
            before = one_worker.get(provider, {})
            for label, runs in (("JSON req/s", "json_c32"), ("streams/s", "streams_per_s")):
                if before.get(runs):
                    ratio = gw.wrk_median(runs, rps) / before[runs]
                    out.append(Verdict(f"{provider} {label}: 2 workers ≥ {TWO_WORKERS}× 1 worker",
                                       f"{ratio:.2f}× ({gw.wrk_median(runs, rps):.0f} vs {before[runs]:.0f})",
                                       ratio >= TWO_WORKERS))
    return out


def verdict_table(items: Sequence[Verdict]) -> str:
    lines = ["| target | figure | met |", "|---|---|---|"]
    lines += [f"| {v.target} | {v.figure} | {'' if v.met is None else ('✅' if v.met else '❌')} |" for v in items]
    return "\n".join(lines)


def key_figures(outcome: Outcome) -> dict[str, Any]:
    """What a later 2-worker run compares itself with."""
    return {p: {"json_c32": _gateway(s).wrk_median("json_c32", rps),
                "streams_per_s": _gateway(s).wrk_median("streams_per_s", rps)}
            for p, s in by_provider(outcome).items()}
