"""``python -m bench``: the gateway against the direct upstream for each provider, with the peers beside it.

Prints the tables and writes them to ``bench/results/latest.md`` (and the key figures to
``bench/results/latest-<N>w.json``, which a later ``--workers 2`` run compares itself with); the
servers' logs land beside them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickle
import resource
import sys
from pathlib import Path

import uvloop

from bench import wrk
from bench.report import detail_table
from bench.run import Outcome, Plan, run
from bench.servers import PEERS
from bench.verdicts import by_provider, key_figures, summary_table, verdict_table, verdicts
from bench.wire import PROTOCOLS

RESULTS = Path(__file__).resolve().parent / "results"


def _plan(argv: list[str] | None) -> Plan:
    d = Plan()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--peer", action="append", choices=[*PEERS, "all"], default=[],
                        help="also measure this peer (repeatable; installed on demand, see bench/README.md)")
    parser.add_argument("--provider", action="append", choices=PROTOCOLS, default=[],
                        help="measure this provider only (repeatable; default: all three)")
    parser.add_argument("--workers", type=int, default=d.workers, help="uvicorn workers for the gateway and LiteLLM")
    parser.add_argument("--reps", type=int, default=d.reps, help="repetitions (the tables show medians)")
    parser.add_argument("--seq-s", type=float, default=d.seq_s, help="seconds of sequential JSON per repetition")
    parser.add_argument("--load-s", type=float, default=d.load_s, help="seconds of each c=32 / c=16 load")
    parser.add_argument("--gap-ms", type=float, default=d.gap_ms, help="pause between streamed chunks")
    parser.add_argument("--open-streams", type=int, default=d.open_streams, help="slow streams held open at once")
    parser.add_argument("--quick", action="store_true", help="one short repetition, 100 open streams (smoke test)")
    parser.add_argument("--render", action="store_true", help="only render the tables of the last run again")
    args = parser.parse_args(argv)
    peers = tuple(PEERS) if "all" in args.peer else tuple(dict.fromkeys(args.peer))
    providers = tuple(dict.fromkeys(args.provider)) or PROTOCOLS
    if args.quick:
        return Plan(render=args.render, reps=1, seq_s=1, load_s=2, c1_streams=2, c16_streams=16, open_streams=100,
                    workers=args.workers, peers=peers, providers=providers, gap_ms=args.gap_ms)
    return Plan(render=args.render, reps=args.reps, seq_s=args.seq_s, load_s=args.load_s, gap_ms=args.gap_ms,
                open_streams=args.open_streams, workers=args.workers, peers=peers, providers=providers)


def _notes(plan: Plan, outcome: Outcome, *, load_before: float) -> str:
    import importlib.metadata as md
    import platform

    from bench.servers import GATEWAY_ENV

    loop = "uvloop" if outcome.stack.get("uvloop/loop") else "asyncio"
    http = "httptools" if outcome.stack.get("httptools/parser") else "h11"
    pinning = (f"servers pinned to CPU {plan.server_cpus}; fake upstream, wrk and the SSE client on CPU "
               f"{plan.load_cpus}") if plan.server_cpus else "no pinning (all share)"
    peers = ", ".join(v for k, v in outcome.versions.items() if v and k in plan.peers)
    return "\n".join([
        f"- machine: {os.cpu_count()} cores, Python {platform.python_version()}, node "
        f"{os.popen('node --version').read().strip() or '—'}; uvicorn {md.version('uvicorn')} with {plan.workers} "
        f"worker(s), loop={loop}, http={http} (seen in the worker's memory map)",
        f"- {pinning}",
        "- gateway: all three providers configured (key `x`, base URLs at the fake upstream), "
        + ", ".join(f"{k}={v}" for k, v in GATEWAY_ENV.items() if k != "DEFAULT_MODEL")
        + " (INFO: the JSON access line is written for every request)",
        f"- peers: {', '.join(f'{n} {v}' for n, v in outcome.versions.items() if v) or 'none'}"
        + (" (OpenAI-shaped /v1/chat/completions, translated by each peer to the provider's protocol)" if peers
           else ""),
        f"- {plan.reps} repetition(s), medians shown; JSON: wrk -c1 {plan.seq_s:g} s and wrk -c32 {plan.load_s:g} s; "
        f"streams: {plan.chunks} chunks {plan.gap_ms:g} ms apart, c=1 ×{plan.c1_streams} and "
        f"c=16 ×{plan.c16_streams}; streams/s: wrk -c16 {plan.load_s:g} s, no gap; "
        f"open streams: {plan.open_streams} at {plan.open_gap_ms:g} ms per chunk, on a fresh server",
        f"- load average before the run: {load_before:.2f} (anything above ~0.3 means other work shared the "
        "cores: the absolute figures then drop, the server CPU per request much less)",
    ])


def main(argv: list[str] | None = None) -> int:
    plan = _plan(argv)
    if plan.render:
        plan, outcome, load_before, started = pickle.loads((RESULTS / "latest-outcome.pickle").read_bytes())
        _write(plan, outcome, load_before=load_before, started=started)
        return 0
    if not wrk.available():
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    # Hundreds of open streams need two sockets each in the gateway, and as many here.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65_536)), hard))
    if plan.load_cpus is not None:
        os.sched_setaffinity(0, {int(plan.load_cpus)})
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()[0]
    outcome = uvloop.run(run(plan, logs=logs))
    outcome.servers.procs.clear()  # stopped; what the tables need is kept
    (RESULTS / "latest-outcome.pickle").write_bytes(pickle.dumps((plan, outcome, load_before, started)))
    _write(plan, outcome, load_before=load_before, started=started)
    return 0


def _write(plan: Plan, outcome: Outcome, *, load_before: float, started: datetime.datetime) -> None:
    one_worker = None
    saved = RESULTS / "latest-1w.json"
    if plan.workers > 1 and saved.exists():
        one_worker = json.loads(saved.read_text())
    parts = [f"## Gateway benchmark, {started:%Y-%m-%d %H:%M} UTC, {plan.workers} worker(s)",
             _notes(plan, outcome, load_before=load_before),
             "### Side by side", summary_table(outcome),
             "### Targets", verdict_table(verdicts(outcome, one_worker=one_worker, workers=plan.workers))]
    for provider, subjects in by_provider(outcome).items():
        direct, *others = (s.figures for s in subjects)
        parts += [f"### {provider}: every figure", detail_table(direct, others, concurrencies=(1, 16))]
    text = "\n\n".join(parts) + "\n"
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / f"latest-{plan.workers}w.json").write_text(json.dumps(key_figures(outcome), indent=1))
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
