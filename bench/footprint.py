"""Idle memory and start-up of the gateway, alone: ``python -m bench.footprint [--starts 5] [--imports]``.

Starts the gateway the README's way (``python -m grompt_gateway.serve``) against the fast fake upstream,
``--starts`` times per configuration (all three providers, then each alone), and reports per configuration:
start-up (process spawn to the first 200 on ``/v1/health``; median, min, max), RSS at that moment and RSS
idle after a short warm-up (JSON and streams through every configured provider, then 1 s of rest), as the
benchmark measures it. ``--imports`` adds what each import step costs in one fresh process (RSS from
``/proc/self/status``, seconds, modules), in the order the gateway imports them, the collector paused.
Bounded: every start times out after 60 s, every warm-up sends a fixed number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bench import servers
from bench.procs import Proc, free_port, start
from bench.streams import one_stream
from bench.targets import Target
from bench.wire import PROTOCOLS, Protocol

REPO: Final = Path(__file__).resolve().parents[1]
CONFIGS: Final[tuple[tuple[Protocol, ...], ...]] = (PROTOCOLS, *((p,) for p in PROTOCOLS))
WARM_REQUESTS: Final = 24  # per provider, JSON and stream each, 8 at a time
# One fresh process: RSS (MB), seconds and modules after each step, printed as one line per step; the
# collector paused, as the gateway's start-up runs (grompt_gateway/stack/lifespan.py).
_IMPORT_STEPS: Final = """
import gc, os, sys, time, importlib
gc.disable()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
for step in sys.argv[1:]:
    began, mods = time.perf_counter(), len(sys.modules)
    for name in step.split("+"):
        importlib.import_module(name)
    print(step, rss(), time.perf_counter() - began, len(sys.modules) - mods, flush=True)
"""
IMPORT_STEPS: Final = ("asyncio+uvloop", "uvicorn", "grompt_gateway.asgi", "aiohttp", "openai", "anthropic",
                       "google.genai")


@dataclass(slots=True)
class Starts:
    providers: tuple[Protocol, ...]
    ready_s: list[float] = field(default_factory=list)
    rss_ready_mb: list[float] = field(default_factory=list)
    rss_idle_mb: list[float] = field(default_factory=list)


async def _warm_up(proc: Proc, providers: Sequence[Protocol]) -> None:
    for provider in providers:
        target = Target(name="gateway", port=proc.port, shape="gateway", provider=provider)
        for body, chunks in ((target.json_body(), 0), (target.stream_body(chunks=50, gap_ms=0), 50)):
            for _ in range(WARM_REQUESTS // 8):
                await asyncio.gather(*(one_stream(target, body=body, expect_chunks=chunks) for _ in range(8)))


async def _one_start(upstream_url: str, into: Starts, *, logs: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    path = os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))  # e.g. + a dir of stubs
    env.update(servers.gateway_env(upstream_url=upstream_url, providers=into.providers), PYTHONPATH=path)
    argv = [sys.executable, "-m", "grompt_gateway.serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = await start("gateway", argv, port=port, log_path=logs / "footprint-gateway.log", env=env, cwd=logs,
                       health_path="/v1/health")
    try:
        into.ready_s.append(proc.ready_s)
        into.rss_ready_mb.append(proc.rss_mb())
        await asyncio.wait_for(_warm_up(proc, into.providers), 60)
        await asyncio.sleep(1.0)
        into.rss_idle_mb.append(proc.rss_mb())
    finally:
        proc.stop()


async def measure(*, starts: int, configs: Sequence[tuple[Protocol, ...]], logs: Path) -> list[Starts]:
    upstream = await servers.upstream(cpus=None, logs=logs)
    results = [Starts(providers=c) for c in configs]
    try:
        for _ in range(starts):  # interleaved, so a change of load touches every configuration alike
            for into in results:
                await _one_start(upstream.url, into, logs=logs)
    finally:
        upstream.stop()
    return results


def import_steps(steps: Sequence[str] = IMPORT_STEPS) -> list[tuple[str, float, float, int]]:
    """(step, RSS after it in MB, seconds, modules it added), in one fresh process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", _IMPORT_STEPS, *steps], cwd=REPO, env=env, capture_output=True,
                         text=True, check=True, timeout=120)
    rows = [line.split() for line in out.stdout.splitlines()]
    return [(name, float(rss), float(s), int(mods)) for name, rss, s, mods in rows]


def _report(results: Sequence[Starts]) -> str:
    lines = ["| providers | start-up to ready, median (min-max) s | RSS at ready, median MB "
             "| RSS idle, median (min-max) MB |", "|---|---|---|---|"]
    for r in results:
        lines.append(f"| {'+'.join(r.providers)} | {statistics.median(r.ready_s):.2f} ({min(r.ready_s):.2f}-"
                     f"{max(r.ready_s):.2f}) | {statistics.median(r.rss_ready_mb):.1f} | "
                     f"{statistics.median(r.rss_idle_mb):.1f} ({min(r.rss_idle_mb):.1f}-{max(r.rss_idle_mb):.1f}) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=5, help="starts per configuration (default 5)")
    parser.add_argument("--all-only", action="store_true", help="only the three-provider configuration")
    parser.add_argument("--imports", action="store_true", help="also the cost of each import step")
    args = parser.parse_args(argv)
    logs = REPO / "bench" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    if args.imports:
        print("| import step | RSS after (MB) | s | modules |\n|---|---|---|---|")
        for name, rss, seconds, mods in import_steps():
            print(f"| {name} | {rss:.1f} | {seconds:.3f} | +{mods} |")
    configs = CONFIGS[:1] if args.all_only else CONFIGS
    results = asyncio.run(measure(starts=args.starts, configs=configs, logs=logs))
    print(_report(results))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
