"""The playground page and Django's static files, served by the async layer in front of Django:
content types, caching validators, HEAD, the on/off setting, and no way out of the file map."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from grompt_gateway.http_errors import NotFound
from grompt_gateway.stack.static_files import StaticFiles
from tests.support.gateway import GatewayThread


@pytest.fixture
def gateway(start_gateway: Callable[..., GatewayThread]) -> GatewayThread:
    return start_gateway()


def raw_get(gateway: GatewayThread, target: str) -> tuple[int, bytes]:
    """GET ``target`` byte for byte (HTTP clients normalise ``..`` away before sending)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", ["/", "/playground"])
def test_playground_page_is_served_as_html(gateway: GatewayThread, path: str) -> None:
    response = httpx.get(gateway.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Grompt gateway · playground</title>" in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(("asset", "content_type"), [
    ("/static/playground/playground.js", "text/javascript"),
    ("/static/playground/playground.css", "text/css"),
])
def test_page_assets_are_served_with_their_content_types(
    gateway: GatewayThread, asset: str, content_type: str,
) -> None:
    page = httpx.get(gateway.url + "/").text
    assert f'"{asset}"' in page
    response = httpx.get(gateway.url + asset)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert int(response.headers["content-length"]) == len(response.content) > 1000


def test_static_files_revalidate_with_etag_and_answer_head(gateway: GatewayThread) -> None:
    first = httpx.get(gateway.url + "/")
    assert first.headers["cache-control"] == "max-age=0, public"
    assert first.headers["last-modified"]
    again = httpx.get(gateway.url + "/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    head = httpx.head(gateway.url + "/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == first.headers["content-length"]


def test_swagger_docs_load_their_assets_from_static_without_a_cdn(gateway: GatewayThread) -> None:
    docs = httpx.get(gateway.url + "/v1/docs").text
    assets = re.findall(r'(?:href|src)="(/static/ninja/[^"]+)"', docs)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui.css", "swagger-ui-bundle.js"}
    assert "cdn" not in docs.lower()
    for asset in assets:
        response = httpx.get(gateway.url + asset)
        assert response.status_code == 200, asset
        assert response.headers["content-type"].startswith(("text/", "image/")), asset


@pytest.mark.parametrize("path", [
    "/static/../grompt_gateway/settings.py",
    "/static/ninja/../../ninja/__init__.py",
    "/static/playground/../stack/static_files.py",
    "/static/playground/%2e%2e/stack/static_files.py",
    "/static/..%2f..%2fgrompt_gateway%2fsettings.py",
    "/static/%2e%2e%5c%2e%2e%5csettings.py",
    "/static//etc/passwd",
    "/static/playground/",
    "/static/no-such-file.js",
])
def test_paths_outside_the_file_map_are_404_json(gateway: GatewayThread, path: str) -> None:
    status, body = raw_get(gateway, path)
    assert status == 404
    assert b'"code":"not_found"' in body
    assert b"SECRET_KEY" not in body and b"import" not in body


def test_only_get_and_head_are_allowed(gateway: GatewayThread) -> None:
    response = httpx.post(gateway.url + "/", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_playground_switched_off_answers_404_json_but_keeps_the_api_and_docs(
    start_gateway: Callable[..., GatewayThread],
) -> None:
    gateway = start_gateway(playground_enabled=False)
    for path in ("/", "/playground", "/static/playground/playground.js", "/static/playground/index.html"):
        response = httpx.get(gateway.url + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert httpx.get(gateway.url + "/v1/health").status_code == 200
    assert httpx.get(gateway.url + "/static/ninja/swagger-ui.css").status_code == 200


@pytest.mark.anyio
async def test_a_file_edited_while_serving_is_served_whole(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<p>one</p>")

    async def django(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("static paths never reach Django")

    static = StaticFiles(django, playground_enabled=True, playground_dir=tmp_path)
    assert await _get(static, "/") == (200, b"<p>one</p>")
    page.write_text("<p>a longer page than before</p>")
    assert await _get(static, "/") == (200, b"<p>a longer page than before</p>")
    page.unlink()
    with pytest.raises(NotFound):
        await _get(static, "/")


async def _get(app: StaticFiles, path: str) -> tuple[int, bytes]:
    """Drive the layer as uvicorn would, and check the body matches its Content-Length."""
    messages: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        messages.append(message)

    await app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)
    start, *bodies = messages
    body = b"".join(message["body"] for message in bodies)
    assert int(dict(start["headers"])[b"content-length"]) == len(body)
    return start["status"], body
