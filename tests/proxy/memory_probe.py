"""Memory of a gateway process while a large body goes through its proxy, both ways.

The gateway runs as its own process (uvicorn, as in production), so its peak RSS (``VmHWM``, reset
through ``/proc/<pid>/clear_refs``) is its alone. ``python -m tests.proxy.memory_probe`` prints the
table in proxy/README.md: the raw ASGI route against the Ninja operation it replaced.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tests.proxy.echo_gobe import CHUNK_BYTES, EchoGoBE, pattern
from tests.support.process import free_port, start_process, stop_process, wait_healthy

MIB = 1024 * 1024
APPS = {"raw ASGI route": "grompt_gateway.asgi:application", "Ninja op": "tests.proxy.ninja_variant:application"}


class GatewayProcess:
    """``uvicorn <app>`` in front of ``gobe_url``, with its memory read from /proc."""

    def __init__(self, *, app: str, gobe_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmpdir = Path(tempfile.mkdtemp(prefix="gateway-tmp-"))  # where Django would spool bodies
        self.process: subprocess.Popen[str] = start_process(
            ["-m", "uvicorn", app, "--port", str(self.port), "--no-access-log", "--log-level", "warning"],
            env={"GOBE_BASE_URL": gobe_url, "GOBE_PROXY_ALLOW": "files,download",
                 "PROXY_MAX_BODY_BYTES": str(1024 * MIB), "LOG_LEVEL": "WARNING", "RATE_LIMIT_RPS": "0",
                 "TMPDIR": str(self.tmpdir)},
        )
        self._status = Path(f"/proc/{self.process.pid}/status")

    def __enter__(self) -> GatewayProcess:
        try:
            wait_healthy(self.url, self.process)
        except BaseException:
            stop_process(self.process)
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        stop_process(self.process)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def spooled_bytes(self) -> int:
        """Bytes in the process's open files under its TMPDIR (Django's spool is unlinked at once)."""
        total = 0
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                if os.readlink(fd).startswith(str(self.tmpdir)):
                    total += fd.stat().st_size
            except OSError:  # closed meanwhile
                continue
        return total

    def _status_kib(self, field: str) -> int:
        line = next(line for line in self._status.read_text().splitlines() if line.startswith(field + ":"))
        return int(line.split()[1])

    def rss_bytes(self) -> int:
        return self._status_kib("VmRSS") * 1024

    def peak_bytes(self) -> int:
        return self._status_kib("VmHWM") * 1024

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


@dataclass(frozen=True)
class Transfer:
    seconds: float
    peak_growth_bytes: int
    intact: bool
    gobe_first_byte_s: float | None = None  # upload only: when GoBE saw the first byte
    client_done_s: float | None = None  # upload only: when the client had sent the last byte
    spooled_peak_bytes: int = 0  # upload only: largest temporary file seen in the gateway's TMPDIR


def _blocks(size: int, marks: dict[str, float]) -> Iterator[bytes]:
    block = pattern(CHUNK_BYTES)
    for start in range(0, size, CHUNK_BYTES):
        yield block[: min(CHUNK_BYTES, size - start)]
    marks["client_done"] = time.monotonic()


def upload(gateway: GatewayProcess, gobe: EchoGoBE, *, size: int) -> Transfer:
    gobe.reset()
    base, marks = _measure_start(gateway)
    spooled = [0]
    done = threading.Event()

    def watch_spool() -> None:
        while not done.wait(0.005):
            spooled[0] = max(spooled[0], gateway.spooled_bytes())

    watcher = threading.Thread(target=watch_spool, daemon=True)
    watcher.start()
    try:
        response = httpx.put(f"{gateway.url}/v1/proxy/files/big.bin", content=_blocks(size, marks),
                             timeout=60, headers={"Content-Length": str(size)})
    finally:
        done.set()
        watcher.join(5)
    elapsed = time.monotonic() - marks["start"]
    first = gobe.seen[0].first_byte_at if gobe.seen else None
    return Transfer(
        seconds=elapsed, peak_growth_bytes=gateway.peak_bytes() - base,
        intact=response.status_code == 200 and response.json()["sha256"] == hashlib.sha256(pattern(size)).hexdigest(),
        gobe_first_byte_s=None if first is None else first - marks["start"],
        client_done_s=marks.get("client_done", 0.0) - marks["start"], spooled_peak_bytes=spooled[0],
    )


def download(gateway: GatewayProcess, *, size: int) -> Transfer:
    base, marks = _measure_start(gateway)
    digest, received = hashlib.sha256(), 0
    with httpx.stream("GET", f"{gateway.url}/v1/proxy/download/{size}", timeout=60) as response:
        for chunk in response.iter_raw():
            digest.update(chunk)
            received += len(chunk)
    return Transfer(seconds=time.monotonic() - marks["start"], peak_growth_bytes=gateway.peak_bytes() - base,
                    intact=received == size and digest.digest() == hashlib.sha256(pattern(size)).digest())


def _measure_start(gateway: GatewayProcess) -> tuple[int, dict[str, float]]:
    gateway.reset_peak()
    return gateway.rss_bytes(), {"start": time.monotonic()}


def warm_up(gateway: GatewayProcess, gobe: EchoGoBE) -> None:
    """First requests import and allocate lazily; measure what a running gateway adds."""
    upload(gateway, gobe, size=4 * MIB)
    download(gateway, size=4 * MIB)


def main(size: int = 50 * MIB) -> None:
    from mockllm import ServerThread

    gobe = EchoGoBE()
    print(f"{size // MIB} MiB each way; growth = peak RSS during the transfer minus RSS before it")
    print("| option | upload: RSS peak growth | upload: temp file peak | GoBE's 1st byte / client's last "
          "| download: RSS peak growth | intact |")
    print("|---|---|---|---|---|---|")
    with ServerThread(gobe) as server:
        for name, app in APPS.items():
            with GatewayProcess(app=app, gobe_url=server.url) as gateway:
                warm_up(gateway, gobe)
                up, down = upload(gateway, gobe, size=size), download(gateway, size=size)
            print(f"| {name} | {up.peak_growth_bytes / MIB:.1f} MiB ({up.seconds:.2f} s) | "
                  f"{up.spooled_peak_bytes / MIB:.1f} MiB | {up.gobe_first_byte_s:.3f} s / {up.client_done_s:.3f} s | "
                  f"{down.peak_growth_bytes / MIB:.1f} MiB ({down.seconds:.2f} s) | {up.intact and down.intact} |")


if __name__ == "__main__":
    main()
