"""The soak: hundreds of concurrent clients with faults and random departures against a real gateway process
(uvicorn) and the mock LLM, whose end state is asserted (``python -m soak``; README § Fault suite and soak)."""

from soak.run import SoakConfig, SoakReport, run_soak

__all__ = ["SoakConfig", "SoakReport", "run_soak"]
