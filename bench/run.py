"""One benchmark run: start the servers, measure every subject repetition by repetition, render the tables.

A subject is one server for one provider (the direct upstream, the gateway, a peer). Repetitions are
interleaved (every subject once, then again), so drift on a shared machine hits all of them alike; the
tables show the median of the repetitions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import servers, streams, wrk
from bench.figures import Figures, OpenStreams, StreamStats
from bench.procs import Proc, loaded_modules
from bench.targets import Target
from bench.wire import PROTOCOLS, Protocol


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
    peers: tuple[str, ...] = ()
    providers: tuple[Protocol, ...] = PROTOCOLS
    render: bool = False  # only render the last run's tables again

    @property
    def server_cpus(self) -> str | None:
        """One worker gets a core of its own; more workers share the machine with everything else."""
        return "1" if self.workers == 1 and (os.cpu_count() or 1) >= 2 else None

    @property
    def load_cpus(self) -> str | None:
        return "0" if self.server_cpus else None


@dataclass(slots=True)
class Subject:
    target: Target
    figures: Figures
    server: str | None  # None for the direct upstream: its memory and CPU are not figures


@dataclass(slots=True)
class Servers:
    """The running servers by name, and every start-up time seen per name."""

    procs: dict[str, Proc] = field(default_factory=dict)
    ready_s: dict[str, list[float]] = field(default_factory=dict)

    def add(self, proc: Proc) -> Proc:
        self.procs[proc.name] = proc
        self.ready_s.setdefault(proc.name, []).append(proc.ready_s)
        return proc


@dataclass(slots=True)
class Outcome:
    """Everything a run measured, for the report."""

    subjects: list[Subject]
    servers: Servers
    rss_idle_one_mb: dict[Protocol, float] = field(default_factory=dict)  # gateway with one provider
    ready_one_s: dict[Protocol, float] = field(default_factory=dict)
    stack: dict[str, bool] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


_Start = Callable[..., Awaitable[Proc]]
_STARTS: dict[str, _Start] = {"gateway": servers.gateway, "litellm": servers.litellm, "portkey": servers.portkey}


@contextlib.asynccontextmanager
async def _rss_peak(subject: Subject, proc: Proc | None) -> AsyncIterator[None]:
    """Sample the server's RSS every 100 ms while the block runs; keep the peak."""
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


class Runner:
    def __init__(self, plan: Plan, *, logs: Path, upstream: Proc) -> None:
        self.plan = plan
        self.logs = logs
        self.upstream = upstream
        self.servers = Servers()

    def proc(self, s: Subject) -> Proc | None:
        return self.servers.procs[s.server] if s.server else None

    async def start(self, name: str) -> Proc:
        proc = await _STARTS[name](upstream_url=self.upstream.url, workers=self.plan.workers,
                                   cpus=self.plan.server_cpus, logs=self.logs)
        return self.servers.add(proc)

    async def load(self, t: Target, *, stream: bool, connections: int, duration_s: float) -> wrk.WrkResult:
        body = t.stream_body(chunks=self.plan.chunks, gap_ms=0) if stream else t.json_body()
        return await wrk.run(url=t.url + t.path(stream=stream), body=body, connections=connections,
                             duration_s=duration_s, cpus=self.plan.load_cpus, workdir=self.logs, headers=t.headers)

    async def cpu_load(self, s: Subject, *, stream: bool, connections: int) -> tuple[wrk.WrkResult, float | None]:
        """A wrk load, and the server's CPU time per request during it (seconds)."""
        proc = self.proc(s)
        before = proc.cpu_s() if proc else 0.0
        async with _rss_peak(s, proc):
            result = await self.load(s.target, stream=stream, connections=connections, duration_s=self.plan.load_s)
        cpu = (proc.cpu_s() - before) / max(result.requests, 1) if proc else None
        return result, cpu

    async def timed(self, t: Target, *, concurrency: int, count: int) -> StreamStats:
        p = self.plan
        rounds = -(-count // concurrency)
        timeout_s = rounds * (p.chunks * p.gap_ms / 1000 + 10)
        samples = await streams.timed_streams(t, concurrency=concurrency, streams=count, chunks=p.chunks,
                                              gap_ms=p.gap_ms, timeout_s=timeout_s)
        return StreamStats.of(samples)

    async def warm_up(self, t: Target) -> None:
        await self.load(t, stream=False, connections=8, duration_s=1)
        await self.load(t, stream=True, connections=8, duration_s=1)
        await self.timed(t, concurrency=2, count=2)

    async def repetition(self, subjects: list[Subject]) -> None:
        p = self.plan
        for s in subjects:
            s.figures.json_seq.append(await self.load(s.target, stream=False, connections=1, duration_s=p.seq_s))
        for s in subjects:
            result, cpu = await self.cpu_load(s, stream=False, connections=32)
            s.figures.json_c32.append(result)
            if cpu is not None:
                s.figures.json_cpu_us.append(cpu * 1e6)
        for concurrency, count in ((1, p.c1_streams), (16, p.c16_streams)):
            for s in subjects:
                async with _rss_peak(s, self.proc(s)):
                    stats = await self.timed(s.target, concurrency=concurrency, count=count)
                s.figures.timed.setdefault(concurrency, []).append(stats)
        for s in subjects:
            result, cpu = await self.cpu_load(s, stream=True, connections=16)
            s.figures.streams_per_s.append(result)
            if cpu is not None:
                s.figures.stream_cpu_ms.append(cpu * 1e3)

    async def open_streams(self, s: Subject) -> None:
        """Memory with ``open_streams`` slow streams open, on a freshly started server."""
        assert s.server is not None
        self.servers.procs.pop(s.server).stop()
        proc = await self.start(s.server)
        s.target = _retarget(s.target, proc)
        await self.warm_up(s.target)
        await asyncio.sleep(1.0)
        before = proc.rss_mb()
        opened, rss_open = await streams.hold_open(
            s.target, count=self.plan.open_streams, chunks=self.plan.chunks, gap_ms=self.plan.open_gap_ms,
            open_timeout_s=20.0, while_open=lambda _opened: proc.rss_mb())
        s.figures.open_streams = OpenStreams(wanted=self.plan.open_streams, opened=opened,
                                             rss_before_mb=before, rss_open_mb=rss_open)

    async def one_provider_gateway(self, provider: Protocol, into: Outcome) -> None:
        """Idle memory and start-up of a gateway configured with ``provider`` alone."""
        name = f"gateway-{provider}"
        proc = await servers.gateway(upstream_url=self.upstream.url, workers=self.plan.workers,
                                     cpus=self.plan.server_cpus, logs=self.logs, providers=(provider,), name=name)
        try:
            target = Target(name=name, port=proc.port, shape="gateway", provider=provider)
            await self.warm_up(target)
            await asyncio.sleep(1.0)
            into.rss_idle_one_mb[provider] = proc.rss_mb()
            into.ready_one_s[provider] = proc.ready_s
        finally:
            proc.stop()


def _retarget(t: Target, proc: Proc) -> Target:
    return Target(name=t.name, port=proc.port, shape=t.shape, provider=t.provider, headers=t.headers, model=t.model)


def _subjects(plan: Plan, runner: Runner, versions: dict[str, str]) -> list[Subject]:
    up = runner.upstream
    out: list[Subject] = []
    for p in plan.providers:
        out.append(Subject(Target(name="direct upstream", port=up.port, shape="direct", provider=p),
                           Figures("direct upstream"), None))
        gw = runner.servers.procs["gateway"]
        out.append(Subject(Target(name="gateway", port=gw.port, shape="gateway", provider=p), Figures("gateway"),
                           "gateway"))
        if "litellm" in plan.peers:
            name = f"LiteLLM {versions['litellm']}"
            proc = runner.servers.procs["litellm"]
            out.append(Subject(Target(name=name, port=proc.port, shape="chat", provider=p,
                                      model=servers.LITELLM_MODELS[p]), Figures(name), "litellm"))
        if "portkey" in plan.peers:
            name = f"Portkey {versions['portkey']}"
            proc = runner.servers.procs["portkey"]
            headers = servers.portkey_headers(p, upstream_url=up.url)
            out.append(Subject(Target(name=name, port=proc.port, shape="chat", provider=p, headers=headers),
                               Figures(name), "portkey"))
    return out


async def run(plan: Plan, *, logs: Path) -> Outcome:
    """Measure everything."""
    upstream = await servers.upstream(cpus=plan.load_cpus, logs=logs)
    runner = Runner(plan, logs=logs, upstream=upstream)
    versions = {"litellm": servers.litellm_version() if "litellm" in plan.peers else "",
                "portkey": servers.portkey_version() if "portkey" in plan.peers else ""}
    try:
        for name in ("gateway", *plan.peers):
            await runner.start(name)
        versions.update(litellm=servers.litellm_version() if "litellm" in plan.peers else "",
                        portkey=servers.portkey_version() if "portkey" in plan.peers else "")
        subjects = _subjects(plan, runner, versions)
        outcome = Outcome(subjects=subjects, servers=runner.servers, versions=versions)
        for s in subjects:
            await runner.warm_up(s.target)
        await asyncio.sleep(1.0)
        for s in subjects:
            proc = runner.proc(s)
            s.figures.rss_idle_mb = proc.rss_mb() if proc else None
        outcome.stack = loaded_modules(runner.servers.procs["gateway"], needles=("uvloop/loop", "httptools/parser"))
        for rep in range(plan.reps):
            print(f"repetition {rep + 1}/{plan.reps}", flush=True)
            await runner.repetition(subjects)
        for s in subjects:
            if s.server is not None:
                print(f"{plan.open_streams} open streams: {s.target.name}, {s.target.provider}", flush=True)
                await runner.open_streams(s)
        if plan.workers == 1:
            for p in plan.providers:
                print(f"gateway with {p} alone: idle memory and start-up", flush=True)
                await runner.one_provider_gateway(p, outcome)
    finally:
        for proc in runner.servers.procs.values():
            proc.stop()
        upstream.stop()
    return outcome
