"""Closed-loop HTTP load with wrk (C, one thread): requests/s and the latency distribution."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.procs import pinned
from bench.targets import API_KEY

_UNITS_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE: Final = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE: Final = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL: Final = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
_NON_2XX: Final = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS: Final = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrkResult:
    requests_per_s: float
    requests: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float


def available() -> bool:
    return shutil.which("wrk") is not None


def _script(*, body: bytes, headers: Sequence[tuple[str, str]], workdir: Path) -> Path:
    # A level-2 long bracket: the body can never contain "]==]".
    text = body.decode()
    assert "]==]" not in text
    extra = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers)
    key = hashlib.sha1(body + extra.encode()).hexdigest()[:12]
    script = workdir / f"wrk-{key}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {API_KEY}"\n'
        f"{extra}wrk.body = [==[{text}]==]\n"
    )
    return script


def parse(output: str) -> WrkResult:
    percentiles = {int(p): float(v) * _UNITS_MS[unit] for p, v, unit in _PERCENTILE.findall(output)}
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None or len(percentiles) < 4:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return WrkResult(requests_per_s=float(rate.group(1)), requests=int(total.group(1)), errors=errors,
                     p50_ms=percentiles[50], p90_ms=percentiles[90], p99_ms=percentiles[99])


async def run(
    *, url: str, body: bytes, connections: int, duration_s: float, cpus: str | None, workdir: Path,
    headers: Sequence[tuple[str, str]] = (),
) -> WrkResult:
    """POST ``body`` (with ``headers``) to ``url`` over ``connections`` keep-alive connections for ``duration_s``."""
    argv = pinned(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--latency", "--timeout", "10s",
                   "-s", str(_script(body=body, headers=headers, workdir=workdir)), url], cpus=cpus)
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), duration_s + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return parse(out.decode())
