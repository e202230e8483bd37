"""``python -m bench``: measure the gateway against the direct upstream (and LiteLLM with ``--peer litellm``).

Prints the markdown table and writes it to ``bench/results/latest.md``; the servers' logs land beside it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
from pathlib import Path

import uvloop

from bench import wrk
from bench.run import Plan, run

RESULTS = Path(__file__).resolve().parent / "results"


def _plan(argv: list[str] | None) -> Plan:
    d = Plan()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--peer", choices=["litellm"], default=None,
                        help="also measure this peer (installed on demand into bench/.peer-venv)")
    parser.add_argument("--workers", type=int, default=d.workers, help="uvicorn workers for gateway and peer")
    parser.add_argument("--reps", type=int, default=d.reps, help="repetitions (the table shows medians)")
    parser.add_argument("--seq-s", type=float, default=d.seq_s, help="seconds of sequential JSON per repetition")
    parser.add_argument("--load-s", type=float, default=d.load_s, help="seconds of each c=32 / c=16 load")
    parser.add_argument("--gap-ms", type=float, default=d.gap_ms, help="pause between streamed chunks")
    parser.add_argument("--open-streams", type=int, default=d.open_streams, help="slow streams held open at once")
    parser.add_argument("--quick", action="store_true", help="one short repetition, 100 open streams (smoke test)")
    args = parser.parse_args(argv)
    if args.quick:
        return Plan(reps=1, seq_s=1, load_s=2, c1_streams=2, c16_streams=16, open_streams=100,
                    workers=args.workers, peer=args.peer, gap_ms=args.gap_ms)
    return Plan(reps=args.reps, seq_s=args.seq_s, load_s=args.load_s, gap_ms=args.gap_ms,
                open_streams=args.open_streams, workers=args.workers, peer=args.peer)


def main(argv: list[str] | None = None) -> int:
    plan = _plan(argv)
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
    notes, table = uvloop.run(run(plan, logs=logs))
    text = (f"## Gateway benchmark, {started:%Y-%m-%d %H:%M} UTC, {plan.workers} worker(s)\n\n"
            f"{notes}\n\n{table}\n")
    (RESULTS / "latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
