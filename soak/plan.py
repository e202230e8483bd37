"""What each soak client does: provider, mode, the fault it asks the mock for, and whether (and when) it leaves."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final, Literal

Mode = Literal["json", "stream_get", "stream_post"]
PROVIDERS: Final = ("openai", "anthropic", "gemini")
MODES: Final[tuple[Mode, ...]] = ("json", "stream_get", "stream_post")
# ``[mock ...]`` directives (mockllm/README.md); "" is a healthy answer. Every one has a contract outcome.
FAULTS: Final = (
    "", "", "", "", "",
    "reset_after=3", "reset_after=0 times=1", "stall_after=4", "silence=1", "status=503", "status=429 times=1",
    "status=404", "status=401", "body=html", "body=garbage", "body=truncated after=2", "body=cut after=3",
    "body=shape", "midstream_error=2", "huge_kb=256", "delay_ms=150",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientPlan:
    n: int
    provider: str
    mode: Mode
    fault: str
    leave_after_s: float | None  # None: stay to the end
    leave_after_chunks: int | None  # streams: leave once this many chunks arrived (None: by time only)

    @property
    def marker(self) -> str:
        """A word in the prompt that finds this client's calls in the mock's record."""
        return f"soakclient{self.n}x"

    @property
    def prompt(self) -> str:
        directive = f" [mock {self.fault} tag=c{self.n}]" if self.fault else ""
        return f"tell me about {self.marker} please{directive}"


def make_plans(*, count: int, leave_share: float, seed: int) -> list[ClientPlan]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    plans = []
    for n in range(count):
        mode = rng.choice(MODES)
        leaves = rng.random() < leave_share
        by_chunks = leaves and mode != "json" and rng.random() < 0.5
        plans.append(ClientPlan(
            n=n, provider=rng.choice(PROVIDERS), mode=mode, fault=rng.choice(FAULTS),
            leave_after_s=rng.uniform(0.0, 0.6) if leaves else None,
            leave_after_chunks=rng.randint(0, 5) if by_chunks else None,
        ))
    return plans
