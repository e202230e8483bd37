"""Where the second worker's share goes: one wrk load on a gateway with N workers, and the CPU time each process
took during it (every worker, uvicorn's parent, the fake upstream, wrk itself, and the whole machine, so what
other work took shows), with the load's keep-alive connections counted per worker (``ss``) halfway through.

    .venv/bin/python -m bench.spread --workers 2 [--stream] [--provider openai] [--reps 3]

Nothing is pinned (as ``python -m bench --workers 2``); one JSON line per run on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Final

from bench import servers
from bench.procs import Proc
from bench.targets import Target
from bench.wire import PROTOCOLS

_TICK_S: Final = 1 / os.sysconf("SC_CLK_TCK")
_WRK_CPU: Final = re.compile(r"WRKCPU ([\d.]+) ([\d.]+)")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def machine_busy_s() -> float:
    """CPU seconds all cores spent outside idle and iowait since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) * _TICK_S


def connections_by_pid(port: int) -> dict[int, int]:
    """Established connections on the server side of ``port``, per owning process."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    counts: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


def _workers(parent: int, count: int) -> list[int]:
    if count == 1:
        return [parent]
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    # uvicorn's workers run its ``spawn`` entry point; multiprocessing's resource tracker does not serve.
    return [int(pid) for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]


async def one_run(args: argparse.Namespace, *, logs: Path) -> dict[str, Any]:
    upstream = await servers.upstream(cpus=None, logs=logs)
    gateway = await servers.gateway(upstream_url=upstream.url, workers=args.workers, cpus=None, logs=logs)
    try:
        await asyncio.sleep(2.0)  # every worker up
        return await asyncio.to_thread(_measure, args, logs=logs, gateway=gateway, upstream=upstream)
    finally:
        gateway.stop()
        upstream.stop()


def _measure(args: argparse.Namespace, *, logs: Path, gateway: Proc, upstream: Proc) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    workers = _workers(gateway.popen.pid, args.workers)
    target = Target(name="gateway", port=gateway.port, shape="gateway", provider=args.provider)
    body = target.stream_body(chunks=50, gap_ms=0) if args.stream else target.json_body()
    script = logs / "spread.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = [==[{body.decode()}]==]\n")
    url = target.url + target.path(stream=args.stream)
    subprocess.run(["wrk", "-t1", "-c4", "-d1s", "-s", str(script), url], capture_output=True, check=True)
    procs = {"upstream": upstream.popen.pid, **{f"worker {pid}": pid for pid in workers}}
    if args.workers > 1:  # with one worker, uvicorn's process is the worker
        procs["parent"] = gateway.popen.pid
    before = {name: cpu_s(pid) for name, pid in procs.items()}
    busy = machine_busy_s()
    load = subprocess.Popen(
        ["/usr/bin/time", "-f", "WRKCPU %U %S", "wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s",
         "-s", str(script), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(args.seconds / 2)
    spread = connections_by_pid(gateway.port)
    out, err = load.communicate()
    taken = {name: round(cpu_s(pid) - before[name], 2) for name, pid in procs.items()}
    machine = round(machine_busy_s() - busy, 2)
    wrk_cpu = _WRK_CPU.search(err)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    requests = re.search(r"(\d+) requests in", out)
    worker_cpu_s = sum(taken[f"worker {pid}"] for pid in workers)
    return {
        "workers": args.workers, "kind": "stream" if args.stream else "json", "provider": args.provider,
        "requests_per_s": float(rate.group(1)) if rate else None,
        "worker_cpu_ms_per_request": round(worker_cpu_s * 1000 / int(requests.group(1)), 3) if requests else None,
        "cpu_s": {**taken, "wrk": round(float(wrk_cpu.group(1)) + float(wrk_cpu.group(2)), 2) if wrk_cpu else None,
                  "machine": machine, "machine_capacity": args.seconds * (os.cpu_count() or 1)},
        "connections_per_worker": [spread.get(pid, 0) for pid in workers],
        "load_average_before": load_before,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spread", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stream", action="store_true", help="50-chunk streams, no gap (else JSON)")
    parser.add_argument("--provider", choices=PROTOCOLS, default="openai")
    parser.add_argument("--connections", type=int, default=None, help="wrk -c (32 for JSON, 16 for streams)")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    args.connections = args.connections or (16 if args.stream else 32)
    if shutil.which("wrk") is None or shutil.which("ss") is None:
        raise SystemExit("needs wrk and ss")
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-spread-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    import uvloop

    for _ in range(args.reps):
        print(json.dumps(uvloop.run(one_run(args, logs=logs))), flush=True)
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
