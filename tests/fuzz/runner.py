"""The schemathesis command line both profiles run: every /v1 operation of the live description,
positive and negative data, and the checks that must find nothing."""

from __future__ import annotations

import sys
from typing import Final

CHECKS: Final = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
                 "response_schema_conformance", "negative_data_rejection")


def schemathesis_command(url: str, *, max_examples: int, seed: int | None) -> list[str]:
    """``seed=None``: deterministic generation (the suite's profile, which cannot flake)."""
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/v1/openapi.json",
               "--checks", ",".join(CHECKS), "--mode", "all", "--max-examples", str(max_examples),
               "--workers", "1", "--request-timeout", "20", "--no-color", "--continue-on-failure",
               "--output-truncate", "false"]
    command += ["--generation-deterministic"] if seed is None else ["--seed", str(seed)]
    return command
