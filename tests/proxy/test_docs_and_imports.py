"""The proxy in the OpenAPI description, and the package's import rule (proxy/README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ninja import NinjaAPI

from proxy.docs import register_proxy_docs
from tests.support.imports import imported_modules
from tests.support.process import python_prints

PROXY_DIR = Path(__file__).resolve().parents[2] / "proxy"
ALLOWED_ROOTS = {"__future__", "django", "ninja", "httpx2", "proxy", "llm", "starlette"}
ALLOWED_LLM = {"llm.errors", "llm.types"}


def test_every_proxied_method_is_described_in_openapi() -> None:
    api = NinjaAPI(urls_namespace="proxy-docs-test")
    register_proxy_docs(api)
    operations = api.get_openapi_schema(path_prefix="/v1")["paths"]["/v1/proxy/{path}"]
    assert set(operations) == {"get", "post", "put", "patch", "delete"}
    assert len({op["operationId"] for op in operations.values()}) == 5
    for method, op in operations.items():
        assert {200, 400, 403, 413, 502, 503, 504} <= set(op["responses"])
        assert ("requestBody" in op) == (method != "get")


@pytest.mark.parametrize("module", sorted(PROXY_DIR.glob("*.py")), ids=lambda p: p.name)
def test_proxy_imports_only_what_its_readme_allows(module: Path) -> None:
    for name in imported_modules(module):
        root = name.split(".")[0]
        if root in sys.stdlib_module_names:
            continue
        assert root in ALLOWED_ROOTS, f"{module.name} imports {name}"
        if root == "llm":
            assert name in ALLOWED_LLM, f"{module.name} imports {name}"
        if root == "starlette":
            assert name == "starlette.types", f"{module.name} imports {name}"


def test_a_gateway_without_gemini_never_imports_plain_httpx() -> None:  # with GoBE and a JWKS
    """The GoBE client (and the JWKS fetch) use httpx2, which the SDKs load anyway: plain httpx imports its
    command-line tool and, where they are installed, click, rich and pygments (~4-6 MB of RSS). google-genai
    imports plain httpx itself when it is installed, so only gateways without Gemini are spared."""
    code = (
        "import asyncio, sys, django\n"
        "django.setup()\n"
        "from grompt_gateway.application import GatewayApplication\n"
        "from grompt_gateway.config import GatewaySettings\n"
        "app = GatewayApplication(GatewaySettings(openai_api_key='k', anthropic_api_key='k',\n"
        "                                         gobe_base_url='http://127.0.0.1:9',\n"
        "                                         auth_jwks_url='http://127.0.0.1:9/jwks'))\n"
        "async def main():\n"
        "    await app.services.start()\n"
        "    assert app.services.gobe is not None and app.services.gobe.client is not None\n"
        "    await app.services.aclose()\n"
        "asyncio.run(main())\n"
        "print(*(name in sys.modules for name in ('httpx', 'httpx2', 'anthropic', 'guards.jwks')))\n"
    )
    assert python_prints(code)[-1] == "False True True True"
