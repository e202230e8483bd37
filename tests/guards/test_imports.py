"""guards/ imports django, redis errors (lazily) and llm.errors/llm.types, never the gateway, the proxy or adapters."""

from __future__ import annotations

from pathlib import Path

from tests.support.imports import imported_modules
from tests.support.process import python_prints

GUARDS = Path(__file__).resolve().parents[2] / "guards"
ALLOWED_LLM = {"llm.errors", "llm.types"}
FORBIDDEN = ("grompt_gateway", "proxy", "llm", "openai", "anthropic", "google", "ninja")


def test_guards_import_nothing_they_must_not() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in GUARDS.glob("*.py")
        for name in imported_modules(path)
        if name not in ALLOWED_LLM and name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_redis_is_imported_only_for_a_redis_cache() -> None:
    """redis-py costs ~7 MB of RSS: the default in-process cache never imports it, a Redis cache does."""
    code = (
        "import sys, django\n"
        "from django.core.cache.backends.locmem import LocMemCache\n"
        "from django.core.cache.backends.redis import RedisCache\n"
        "from guards.cache_io import CacheRunner\n"
        "CacheRunner(LocMemCache('t', {}))\n"
        "before = 'redis' in sys.modules\n"
        "runner = CacheRunner(RedisCache('redis://127.0.0.1:1', {}))\n"
        "print(before, 'redis' in sys.modules, runner.errors[0].__module__)\n"
    )
    assert python_prints(code) == ["False True redis.exceptions"]


def test_pyjwt_and_cryptography_are_imported_only_when_tokens_are_checked() -> None:
    """PyJWT with cryptography costs ~20 MB of RSS: a gateway without AUTH_* keys never imports them."""
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from grompt_gateway.application import GatewayApplication\n"
        "from grompt_gateway.config import GatewaySettings\n"
        "GatewayApplication(GatewaySettings())\n"
        "before = 'jwt' in sys.modules or 'cryptography' in sys.modules\n"
        "GatewayApplication(GatewaySettings(auth_jwt_secret='x' * 32))\n"
        "print(before, 'jwt' in sys.modules)\n"
    )
    assert python_prints(code)[-1] == "False True"
