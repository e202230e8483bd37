"""Debian's nginx in front of a gateway, for tests: ``docs/nginx.conf`` itself, with only its addresses
(and optionally its read timeout) changed, in a private prefix on ephemeral loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from tests.support.process import ROOT, free_port

DOCUMENTED = ROOT / "docs" / "nginx.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)

_MAIN = """worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/gateway.conf;
}}
"""


def render(*, gateway_port: int, listen_port: int, read_timeout: str | None = None) -> str:
    """The documented server block with the test's addresses; each replaced line must exist exactly once."""
    text = DOCUMENTED.read_text(encoding="utf-8")
    changes = {"server 127.0.0.1:3000;": f"server 127.0.0.1:{gateway_port};",
               "listen 80;": f"listen 127.0.0.1:{listen_port};"}
    if read_timeout is not None:
        changes["proxy_read_timeout 60s;"] = f"proxy_read_timeout {read_timeout};"
    for old, new in changes.items():
        assert text.count(old) == 1, f"docs/nginx.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


class Nginx:
    """``nginx -g 'daemon off;'`` in ``directory``; ``url`` is where clients connect."""

    def __init__(self, *, gateway_port: int, directory: Path, read_timeout: str | None = None) -> None:
        assert NGINX is not None
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (directory / "gateway.conf").write_text(
            render(gateway_port=gateway_port, listen_port=self.port, read_timeout=read_timeout), encoding="utf-8")
        (directory / "nginx.conf").write_text(_MAIN.format(dir=directory), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 10.0) -> Nginx:
        assert NGINX is not None
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read() if self.process.stderr else ''!r}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("nginx did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def errors(self) -> str:
        log = self.directory / "error.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
