"""The gateway as an operator runs it: a uvicorn process on loopback, its output in a file, and what the kernel
says it holds (open file descriptors, resident memory) read from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[1]


class GatewayProcess:
    """``uvicorn grompt_gateway.asgi:application`` with ``env`` on a free loopback port."""

    def __init__(self, *, env: Mapping[str, str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        base = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
        self._env = {**base, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "grompt_gateway.settings", **env}
        self._log = tempfile.NamedTemporaryFile(prefix="soak-gateway-", suffix=".log", delete=False)  # noqa: SIM115
        self.log_path = Path(self._log.name)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout_s: float = 60.0) -> GatewayProcess:
        args = [sys.executable, "-m", "uvicorn", "grompt_gateway.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-proxy-headers", "--timeout-graceful-shutdown", "2"]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            args, cwd=ROOT, env=self._env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self._process.returncode}: see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise TimeoutError(f"the gateway was not healthy within {timeout_s} s")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> int | None:
        if self._process is None:
            return None
        self._process.terminate()
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._log.close()
        return code

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
