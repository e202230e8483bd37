"""SSRF: the proxy reaches GOBE_BASE_URL and nothing else, whatever GoBE answers or the environment says:
redirects go back to the client unfollowed, and HTTP(S)_PROXY never reroutes a GoBE call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.gateway import GatewayThread


class Recorder:
    """A loopback HTTP server that records the paths it is asked for and answers ``status`` with ``location``."""

    def __init__(self, *, status: int = 200, location: str | None = None) -> None:
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.paths.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorders() -> Iterator[Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(**kwargs: object) -> Recorder:
        made.append(Recorder(**kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for recorder in made:
        recorder.close()


def test_a_redirect_from_gobe_goes_back_to_the_client_unfollowed(
        start_gateway: Callable[..., GatewayThread], recorders: Callable[..., Recorder]) -> None:
    internal = recorders()
    gobe = recorders(status=302, location=f"{internal.url}/admin")
    gateway = start_gateway(gobe_base_url=gobe.url, gobe_proxy_allow=("files",))
    response = httpx.get(f"{gateway.url}/v1/proxy/files/1")
    assert response.status_code == 302 and response.headers["location"] == f"{internal.url}/admin"
    assert gobe.paths == ["/files/1"] and internal.paths == []


def test_proxy_settings_in_the_environment_never_reroute_gobe_calls(
        start_gateway: Callable[..., GatewayThread], recorders: Callable[..., Recorder],
        monkeypatch: pytest.MonkeyPatch) -> None:
    gobe, interceptor = recorders(), recorders()
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, interceptor.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    gateway = start_gateway(gobe_base_url=gobe.url, gobe_proxy_allow=("files",))
    with httpx.Client(trust_env=False) as client:
        assert client.get(f"{gateway.url}/v1/proxy/files/2").status_code == 200
    assert gobe.paths == ["/files/2"] and interceptor.paths == []
