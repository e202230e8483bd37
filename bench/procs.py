"""The processes under test: start them pinned to a core, wait for their port, read their memory, stop them.

Each process gets its own session, so stopping it also stops the workers it forked (uvicorn --workers).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(argv: Sequence[str], *, cpus: str | None) -> list[str]:
    """Prefix ``argv`` with ``taskset -c cpus`` where taskset exists and a core list is given."""
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus, *argv]
    return list(argv)


@dataclass
class Proc:
    """A started server: its process, port and log file."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path
    ready_s: float = 0.0  # from the start of the process to its first answer on the health path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """Resident memory of the process and all its descendants, in MB (10^6 bytes)."""
        return sum(_rss_kib(pid) for pid in _tree(self.popen.pid)) * 1024 / 1e6

    def cpu_s(self) -> float:
        """CPU time (user + system) used so far by the process and its descendants, in seconds."""
        return sum(_cpu_ticks(pid) for pid in _tree(self.popen.pid)) / os.sysconf("SC_CLK_TCK")

    def stop(self, *, timeout_s: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout_s)


async def start(
    name: str, argv: Sequence[str], *, port: int, log_path: Path, env: Mapping[str, str] | None = None,
    cwd: Path | None = None, ready_timeout_s: float = 60.0, health_path: str | None = None,
) -> Proc:
    """Start ``argv`` (which must listen on ``port``) and return once it accepts connections, or with
    ``health_path`` once a GET there answers 200; ``ready_s`` is how long that took."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: ASYNC220 - started once, it runs for the whole benchmark
            list(argv), stdout=log, stderr=subprocess.STDOUT, env=dict(env) if env is not None else None,
            cwd=cwd, start_new_session=True,
        )
    proc = Proc(name=name, popen=popen, port=port, log_path=log_path)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {popen.returncode}; see {log_path}")
        if await _ready(port, health_path):
            proc.ready_s = time.monotonic() - began
            return proc
        await asyncio.sleep(0.01)
    proc.stop()
    raise TimeoutError(f"{name} did not listen on {port} within {ready_timeout_s} s; see {log_path}")


async def _ready(port: int, health_path: str | None) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        if health_path is None:
            return True
        writer.write(f"GET {health_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), 5)
        return status.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()


def loaded_modules(proc: Proc, *, needles: Sequence[str]) -> dict[str, bool]:
    """Tell which shared objects (e.g. ``uvloop/loop``) are mapped in any process of ``proc``."""
    maps = ""
    for pid in _tree(proc.popen.pid):
        try:
            maps += Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
    return {needle: needle in maps for needle in needles}


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for current in pids:  # grows while we walk it: a breadth-first walk of the process tree
        for task in _listdir(f"/proc/{current}/task"):
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            pids.extend(int(child) for child in children if int(child) not in pids)
    return pids


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
