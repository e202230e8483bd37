"""llm/ imports no web framework and no other package of the gateway (llm/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import imported_modules
from tests.support.process import python_prints

LLM_DIR = Path(__file__).resolve().parents[2] / "llm"
FORBIDDEN = ("django", "ninja", "grompt_gateway", "proxy", "guards")


@pytest.mark.parametrize("path", sorted(LLM_DIR.rglob("*.py")), ids=lambda p: p.name)
def test_llm_module_imports_nothing_forbidden(path: Path) -> None:
    offending = [name for name in imported_modules(path) if name.split(".")[0] in FORBIDDEN]

    assert offending == [], f"{path.name} imports {offending}"


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import django.db\nfrom ninja import Router\nimport importlib\n"
        "def f():\n    from guards import rate_limit\n    importlib.import_module('proxy.client')\n"
    )

    assert [n.split(".")[0] for n in imported_modules(sample)] == ["django", "ninja", "importlib", "guards", "proxy"]


def test_importing_llm_errors_does_not_load_the_sdks() -> None:
    code = "import sys, llm.errors, llm; print(sorted({'openai', 'anthropic', 'google.genai'} & set(sys.modules)))"
    assert python_prints(code) == ["[]"]
