"""guards/ imports django, redis errors and llm.errors/llm.types, never the gateway, the proxy or adapters."""

from __future__ import annotations

import ast
from pathlib import Path

GUARDS = Path(__file__).resolve().parents[2] / "guards"
ALLOWED_LLM = {"llm.errors", "llm.types"}
FORBIDDEN = ("grompt_gateway", "proxy", "llm", "openai", "anthropic", "google", "ninja")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_guards_import_nothing_they_must_not() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in GUARDS.glob("*.py")
        for name in imported_modules(path)
        if name not in ALLOWED_LLM and name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()
