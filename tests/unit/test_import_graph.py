"""The import graph between the gateway's parts, drawn from the code: no cycle, so each part can be read
(and changed) knowing only what it imports. Parts: ``llm``, ``guards``, ``proxy``, ``mockllm`` and each
subpackage or top-level module of ``grompt_gateway`` (``grompt_gateway.v1``, ``grompt_gateway.wiring``, …)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.support.imports import ROOT, imported_modules

PACKAGES = ("grompt_gateway", "llm", "guards", "proxy", "mockllm")


def part_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    return ".".join(parts[:2]) if parts[0] == "grompt_gateway" and len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def import_graph(paths: Iterable[Path]) -> dict[str, set[str]]:
    """part → the other parts it imports (``TYPE_CHECKING`` and function-level imports included)."""
    graph: dict[str, set[str]] = {}
    for path in paths:
        source = part_of(module_name(path))
        assert source is not None
        for name in imported_modules(path):
            target = part_of(name)
            if target is not None and target != source:
                graph.setdefault(source, set()).add(target)
    return graph


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None (depth-first, three colours)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_parts_of_the_gateway_import_each_other_without_a_cycle() -> None:
    graph = import_graph(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))
    assert {"grompt_gateway.v1", "grompt_gateway.server", "guards"} <= set(graph)  # the walk saw the code
    cycle = a_cycle(graph)
    assert cycle is None, " → ".join(cycle or ())


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b", "c"}, "b": {"c"}}) is None
