"""One benchmark run: start the servers, measure every target repetition by repetition, render the table.

Repetitions are interleaved (direct, gateway, peer, then again), so drift on a shared machine hits all
targets alike; the table shows the median of the repetitions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench import servers, streams, wrk
from bench.figures import Figures, OpenStreams, StreamStats
from bench.procs import Proc, loaded_modules
from bench.report import table
from bench.targets import Target


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    reps: int = 3
    seq_s: float = 3.0
    load_s: float = 4.0
    chunks: int = 50
    gap_ms: float = 10.0
    c1_streams: int = 5
    c16_streams: int = 32
    open_streams: int = 500
    open_gap_ms: float = 400.0
    workers: int = 1
    peer: str | None = None

    @property
    def server_cpus(self) -> str | None:
        """One worker gets a core of its own; more workers share the machine with everything else."""
        return "1" if self.workers == 1 and (os.cpu_count() or 1) >= 2 else None

    @property
    def load_cpus(self) -> str | None:
        return "0" if self.server_cpus else None


@dataclass(slots=True)
class _Subject:
    target: Target
    figures: Figures
    proc: Proc | None  # None for the direct upstream: its memory is not a figure


@contextlib.asynccontextmanager
async def _rss_peak(subject: _Subject) -> AsyncIterator[None]:
    """Sample the subject's RSS every 100 ms while the block runs; keep the peak."""
    proc = subject.proc
    if proc is None:
        yield
        return
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            subject.figures.note_rss(proc.rss_mb())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        stop.set()
        await task


@contextlib.asynccontextmanager
async def _cpu_per_request(
    subject: _Subject, into: list[float], *, unit_s: float
) -> AsyncIterator[list[wrk.WrkResult]]:
    """Append to ``into`` the subject's CPU time per request of the wrk runs the block appends."""
    results: list[wrk.WrkResult] = []
    before = subject.proc.cpu_s() if subject.proc else 0.0
    yield results
    if subject.proc is not None and results:
        requests = sum(r.requests for r in results)
        into.append((subject.proc.cpu_s() - before) / max(requests, 1) / unit_s)


class _Runner:
    def __init__(self, plan: Plan, *, logs: Path) -> None:
        self.plan = plan
        self.logs = logs

    async def load(self, t: Target, *, body: bytes, connections: int, duration_s: float) -> wrk.WrkResult:
        return await wrk.run(url=t.url + t.path, body=body, connections=connections, duration_s=duration_s,
                             cpus=self.plan.load_cpus, workdir=self.logs)

    async def timed(self, t: Target, *, concurrency: int, count: int) -> StreamStats:
        p = self.plan
        rounds = -(-count // concurrency)
        timeout_s = rounds * (p.chunks * p.gap_ms / 1000 + 10)
        samples = await streams.timed_streams(t, concurrency=concurrency, streams=count, chunks=p.chunks,
                                              gap_ms=p.gap_ms, timeout_s=timeout_s)
        return StreamStats.of(samples)

    async def warm_up(self, s: _Subject) -> None:
        t = s.target
        await self.load(t, body=t.json_body(), connections=8, duration_s=1)
        await self.load(t, body=t.stream_body(chunks=self.plan.chunks, gap_ms=0), connections=8, duration_s=1)
        await self.timed(t, concurrency=2, count=2)

    async def repetition(self, subjects: list[_Subject]) -> None:
        p = self.plan
        for s in subjects:
            t = s.target
            s.figures.json_seq.append(await self.load(t, body=t.json_body(), connections=1, duration_s=p.seq_s))
        for s in subjects:
            async with _rss_peak(s), _cpu_per_request(s, s.figures.json_cpu_us, unit_s=1e-6) as results:
                results.append(
                    await self.load(s.target, body=s.target.json_body(), connections=32, duration_s=p.load_s))
            s.figures.json_c32 += results
        for concurrency, count in ((1, p.c1_streams), (16, p.c16_streams)):
            for s in subjects:
                async with _rss_peak(s):
                    stats = await self.timed(s.target, concurrency=concurrency, count=count)
                s.figures.timed.setdefault(concurrency, []).append(stats)
        for s in subjects:
            body = s.target.stream_body(chunks=p.chunks, gap_ms=0)
            async with _rss_peak(s), _cpu_per_request(s, s.figures.stream_cpu_ms, unit_s=1e-3) as results:
                results.append(await self.load(s.target, body=body, connections=16, duration_s=p.load_s))
            s.figures.streams_per_s += results

    async def open_streams(self, s: _Subject) -> None:
        """Memory with ``open_streams`` slow streams open, on a freshly started server."""
        assert s.proc is not None
        await self.warm_up(s)
        await asyncio.sleep(1.0)
        before = s.proc.rss_mb()
        proc = s.proc
        opened, rss_open = await streams.hold_open(
            s.target, count=self.plan.open_streams, chunks=self.plan.chunks, gap_ms=self.plan.open_gap_ms,
            open_timeout_s=20.0, while_open=lambda _opened: proc.rss_mb())
        s.figures.open_streams = OpenStreams(wanted=self.plan.open_streams, opened=opened,
                                             rss_before_mb=before, rss_open_mb=rss_open)


async def _server(kind: str, plan: Plan, *, upstream: Proc, logs: Path) -> Proc:
    start = servers.gateway if kind == "gateway" else servers.litellm
    return await start(upstream_url=upstream.url, workers=plan.workers, cpus=plan.server_cpus, logs=logs)


async def _start_subjects(plan: Plan, upstream: Proc, logs: Path) -> list[_Subject]:
    gateway = await _server("gateway", plan, upstream=upstream, logs=logs)
    subjects = [
        _Subject(Target(name="direct upstream", port=upstream.port, shape="openai"), Figures("direct upstream"),
                 None),
        _Subject(Target(name="gateway", port=gateway.port, shape="gateway"), Figures("gateway"), gateway),
    ]
    if plan.peer == "litellm":
        peer = await _server("litellm", plan, upstream=upstream, logs=logs)
        name = f"LiteLLM {servers.litellm_version()}"
        subjects.append(_Subject(Target(name=name, port=peer.port, shape="openai"), Figures(name), peer))
    return subjects


async def _restart(plan: Plan, s: _Subject, *, upstream: Proc, logs: Path) -> None:
    assert s.proc is not None
    s.proc.stop()
    s.proc = await _server(s.proc.name, plan, upstream=upstream, logs=logs)
    s.target = Target(name=s.target.name, port=s.proc.port, shape=s.target.shape)


async def run(plan: Plan, *, logs: Path) -> tuple[str, str]:
    """Measure everything; return (the setup notes, the table)."""
    load_before = os.getloadavg()[0]
    upstream = await servers.upstream(cpus=plan.load_cpus, logs=logs)
    subjects: list[_Subject] = []
    try:
        subjects = await _start_subjects(plan, upstream, logs)
        runner = _Runner(plan, logs=logs)
        for s in subjects:
            await runner.warm_up(s)
        await asyncio.sleep(1.0)
        for s in subjects:
            s.figures.rss_idle_mb = s.proc.rss_mb() if s.proc else None
        gateway_proc = subjects[1].proc
        assert gateway_proc is not None
        stack = loaded_modules(gateway_proc, needles=("uvloop/loop", "httptools/parser"))
        for rep in range(plan.reps):
            print(f"repetition {rep + 1}/{plan.reps}", flush=True)
            await runner.repetition(subjects)
        for s in subjects[1:]:
            print(f"{plan.open_streams} open streams: {s.target.name}", flush=True)
            await _restart(plan, s, upstream=upstream, logs=logs)
            await runner.open_streams(s)
    finally:
        for s in subjects:
            if s.proc is not None:
                s.proc.stop()
        upstream.stop()
    direct, gateway, *peer = (s.figures for s in subjects)
    notes = _notes(plan, stack=stack, load_before=load_before)
    return notes, table(direct, gateway, peer[0] if peer else None, concurrencies=(1, 16))


def _notes(plan: Plan, *, stack: dict[str, bool], load_before: float) -> str:
    import importlib.metadata as md
    import platform

    loop = "uvloop" if stack["uvloop/loop"] else "asyncio"
    http = "httptools" if stack["httptools/parser"] else "h11"
    pinning = (f"gateway{' and peer' if plan.peer else ''} pinned to CPU {plan.server_cpus}; fake upstream, "
               f"wrk and the SSE client on CPU {plan.load_cpus}") if plan.server_cpus else "no pinning (all share)"
    return "\n".join([
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"uvicorn {md.version('uvicorn')} with {plan.workers} worker(s), loop={loop}, http={http} (as detected "
        "in the worker's memory map)",
        f"- {pinning}",
        "- gateway env: " + ", ".join(f"{k}={v}" for k, v in servers.GATEWAY_ENV.items())
        + " (INFO: the JSON access line is written for every request)",
        f"- {plan.reps} repetitions, medians shown; JSON: wrk -c1 {plan.seq_s:g} s and wrk -c32 {plan.load_s:g} s; "
        f"streams: {plan.chunks} chunks {plan.gap_ms:g} ms apart, c=1 ×{plan.c1_streams} and "
        f"c=16 ×{plan.c16_streams} per repetition; streams/s: wrk -c16 {plan.load_s:g} s, no gap; "
        f"open streams: {plan.open_streams} at {plan.open_gap_ms:g} ms per chunk, on a fresh server",
        f"- load average before the run: {load_before:.2f} (anything above ~0.3 means other work shared the "
        "cores: the absolute figures then drop, the server CPU per request much less)",
    ])
