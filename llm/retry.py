"""MultiAI's short-retry policy: which failed attempts are tried again, and after how long.

Imports only the standard library and ``llm``: never django, ninja, grompt_gateway, proxy or guards.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from llm.errors import GatewayError
from llm.upstream import is_retryable


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """At most ``max_retries`` more attempts after 408/409/429, 5xx or a connection failure.

    The wait is the provider's ``Retry-After`` capped at ``max_retry_after_s``, else an exponential
    backoff from ``base_delay_s`` (capped at ``max_delay_s``) with jitter. A wait that would not end
    before the deadline is not taken: the failure is reported at once instead. When the request may move
    on to another provider (``may_move_on``), a ``Retry-After`` above the cap is not waited for either:
    the provider asked for more time than a short retry may take.
    """

    max_retries: int = 2
    base_delay_s: float = 0.2
    max_delay_s: float = 1.0
    max_retry_after_s: float = 2.0

    def delay_s(
        self, *, failure: GatewayError, retries_done: int, remaining_s: float, may_move_on: bool = False
    ) -> float | None:
        """Return how long to wait before the next attempt, or None to give up with ``failure``."""
        if retries_done >= self.max_retries or not is_retryable(failure):
            return None
        if may_move_on and failure.retry_after_s and failure.retry_after_s > self.max_retry_after_s:
            return None
        if failure.retry_after_s:
            delay_s = min(failure.retry_after_s, self.max_retry_after_s)
        else:
            ceiling_s = min(self.max_delay_s, self.base_delay_s * 2**retries_done)
            # Jitter spreads the retries of many clients hit by the same failure.
            delay_s = ceiling_s * random.uniform(0.5, 1.0)  # noqa: S311 - timing jitter, not a secret
        return delay_s if delay_s < remaining_s else None
