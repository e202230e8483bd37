"""`python -m mockllm --port 8787 --chunk-delay-ms 40`: run the mock LLM upstream in the foreground."""

from __future__ import annotations

from mockllm.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
