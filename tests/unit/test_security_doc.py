"""SECURITY.md stays true: every test it cites exists, and every default in its limits table is the code's."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from grompt_gateway.config import GatewaySettings, env_name

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
CITATION = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
LIMIT_ROW = re.compile(r"^\| `([A-Z_]+)` \| (\d+) \|", re.MULTILINE)


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_cited_test_exists() -> None:
    citations = CITATION.findall(DOC)
    assert len(citations) > 40
    missing = [f"{file}::{name}" for file, name in citations
               if not (ROOT / file).is_file() or (name and name not in _test_names(ROOT / file))]
    assert missing == []


def test_every_claim_cites_a_test() -> None:
    """Each bullet and table row of the trust, proxy, log and limit sections names at least one test."""
    sections = DOC.split("\n## ")[2:]
    for section in sections:
        for claim in re.split(r"\n(?=- \*\*|\| `)", section):
            if claim.startswith(("- **", "| `")):
                assert "`tests/" in claim, claim[:80]


def test_the_limits_table_shows_the_real_defaults() -> None:
    settings = GatewaySettings()
    defaults = {env_name(field.name): getattr(settings, field.name) for field in dataclasses.fields(settings)}
    rows = LIMIT_ROW.findall(DOC)
    assert {name for name, _ in rows} >= {"RATE_LIMIT_RPS", "MAX_BODY_BYTES", "MAX_PROMPT_CHARS",
                                          "MAX_OUTPUT_TOKENS", "REQUEST_TIMEOUT_MS", "STREAM_TIMEOUT_MS"}
    assert {name: float(value) for name, value in rows} == {name: float(defaults[name]) for name, _ in rows}
