"""/v1/docs in a real browser (Debian's Chromium, driven by Playwright): Swagger UI renders the live
description with every operation it holds, and shows no error box (a description it cannot parse, such
as one with a key written twice, shows "Parser error" and no operations)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.demo.conftest import ARTIFACTS, FIRST_LOAD_MS
from tests.support.gateway import GatewayThread

pytestmark = pytest.mark.browser


def _operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def test_swagger_ui_shows_every_operation_and_no_error(chromium: Browser, demo_gateway: GatewayThread) -> None:
    operations = _operations(httpx.get(f"{demo_gateway.url}/v1/openapi.json").json())
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(f"{demo_gateway.url}/v1/docs")
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(operations), timeout=FIRST_LOAD_MS)
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Grompt gateway")
        shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
                  block.locator(".opblock-summary-path").get_attribute("data-path"))
                 for block in blocks.all()}
        assert shown == set(operations)
        assert page.locator(".errors-wrapper").count() == 0
        assert "Parser error" not in page.content()
        assert console_errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=True)
    finally:
        page.close()
