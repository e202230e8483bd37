"""The project documents itself: no file points at a description outside the repository (a sibling
folder, notes that ship elsewhere); the HTTP API is docs/api.md, linked from the README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared|\bshared/API|\bAPI\.md\b|STACK[-]NOTES|STYLE\.md")
TEXT = (".py", ".md", ".js", ".html", ".css", ".txt", ".toml", ".example", ".sh", ".cfg", ".ini", ".yml", ".yaml")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = [ROOT / name for name in names.splitlines()]
    scripts = [path for path in files if path.parent.name in {"scripts", ".ci"}]
    return [path for path in files if path.suffix in TEXT or path in scripts]


def test_nothing_points_outside_the_repository() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for path in _tracked_text_files() if path.exists() and path != Path(__file__)
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert offenders == []


def test_the_readme_links_the_api_description() -> None:
    assert "(docs/api.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / "docs" / "api.md").is_file()
