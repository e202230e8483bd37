"""The error tree tells the truth: each error lives with the package that raises it, guards/ and proxy/
take only the shared base from llm/, and every class has one status in the one table."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import guards.errors
import llm.errors
import proxy.errors
from grompt_gateway import http_errors
from llm.errors import GatewayError
from tests.support.imports import ROOT, imported_names

SHARED = {"GatewayError", "InvalidRequest", "DeadlineExceeded"}
HOMES = [(llm.errors, "llm"), (guards.errors, "guards"), (proxy.errors, "proxy"), (http_errors, "grompt_gateway")]


def _error_classes(module: object) -> list[type[GatewayError]]:
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, GatewayError) and obj.__module__ == module.__name__]  # type: ignore[attr-defined]


def _constructed(package: str, *, skip: Path) -> set[str]:
    """Names called anywhere in the package (``raise X(…)``, ``return X(…)``), outside ``skip``."""
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        if path == skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


@pytest.mark.parametrize(("module", "package"), HOMES, ids=[package for _, package in HOMES])
def test_every_error_is_raised_by_the_package_it_lives_in(module: object, package: str) -> None:
    subclassed = {base.__name__ for home, _ in HOMES for cls in _error_classes(home) for base in cls.__bases__}
    constructed = _constructed(package, skip=Path(module.__file__))  # type: ignore[attr-defined]
    idle = {cls.__name__ for cls in _error_classes(module)} - constructed - subclassed
    assert idle == set(), f"{module.__name__} holds errors its package never raises"  # type: ignore[attr-defined]


@pytest.mark.parametrize("package", ["guards", "proxy"])
def test_guards_and_proxy_take_only_the_shared_base_from_llm(package: str) -> None:
    taken = {f"{path.name}: {name}" for path in (ROOT / package).rglob("*.py")
             for module, name in imported_names(path) if module == "llm.errors" and name not in SHARED}
    assert taken == set()


def test_every_error_has_one_status_and_one_code_means_one_status() -> None:
    by_code: dict[str, set[int]] = {}
    for module, _ in HOMES:
        for cls in _error_classes(module):
            status = http_errors.status_for(cls("x"))
            assert cls is GatewayError or status != 500, f"{cls.__name__} is not in the status table"
            by_code.setdefault(cls.code, set()).add(status)
    assert {code: statuses for code, statuses in by_code.items() if len(statuses) > 1} == {}
    assert by_code == {
        "internal_error": {500}, "invalid_request": {400}, "idempotency_key_reused": {422}, "not_found": {404},
        "method_not_allowed": {405}, "path_not_allowed": {403}, "payload_too_large": {413},
        "rate_limited": {429}, "budget_exceeded": {429}, "provider_not_configured": {503}, "upstream_error": {502},
        "timeout": {504},
        "unauthorized": {401}, "auth_unavailable": {503}, "budget_unavailable": {503},
    }
