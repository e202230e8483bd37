"""Token budgets in the /v1 API: ``CallBudget`` around one model call (reserve before the provider is
called, settle exactly once when the call ends: reported usage, else an estimate from the text produced;
tell the access line), and the ``GET /v1/budget`` handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grompt_gateway.observability.request_context import annotate
from grompt_gateway.server.http_port import RequestContext, ResponsePayload
from grompt_gateway.wiring import current_services
from guards import Reservation, TokenBudget
from guards.token_estimate import prompt_tokens, text_weight, tokens_of_weight
from llm.types import GenInput, GenUsage

if TYPE_CHECKING:
    from grompt_gateway.v1.sse import StreamReport
    from llm.ports import GenStream


@dataclass(frozen=True, slots=True, kw_only=True)
class Spend:
    """What a call cost, in tokens; ``estimated`` when the provider reported no (final) usage."""

    prompt: int
    completion: int
    estimated: bool = False

    @property
    def total(self) -> int:
        return self.prompt + self.completion


NOTHING = Spend(prompt=0, completion=0)


class CallBudget:
    """One call's reservation (None when the client has no budget), settled once."""

    __slots__ = ("_budget", "_reservation", "_settled", "completion_cap", "input")

    def __init__(self, *, budget: TokenBudget, reservation: Reservation | None, input: GenInput,
                 completion_cap: int | None) -> None:
        self._budget = budget
        self._reservation = reservation
        self._settled = False
        self.input = input
        self.completion_cap = completion_cap

    @classmethod
    async def reserve(cls, budget: TokenBudget, *, client_key: str, input: GenInput,
                      completion_cap: int | None) -> CallBudget:
        """Reserve the prompt estimate plus ``completion_cap``; raises when it does not fit (guards/budget.py)."""
        reservation = None
        if budget.enabled and completion_cap is not None:
            amount = prompt_tokens(user=input.user, system=input.system) + completion_cap
            reservation = await budget.reserve(client_key=client_key, amount=amount)
            if reservation is not None:
                annotate(budget_reserved=reservation.amount)
        return cls(budget=budget, reservation=reservation, input=input, completion_cap=completion_cap)

    def of_result(self, *, usage: GenUsage | None, text: str) -> Spend:
        """A finished call: its reported usage, else an estimate of prompt and answer."""
        if usage is not None:
            return Spend(prompt=usage.prompt, completion=usage.total - usage.prompt)
        return self._estimate(usage=None, produced_weight=text_weight(text))

    def of_stream(self, stream: GenStream, report: StreamReport) -> Spend:
        """A stream: reported usage when it ended with the provider's last event; else an estimate from the
        text produced (nothing produced costs nothing)."""
        if report.completed and stream.usage is not None:
            return self.of_result(usage=stream.usage, text="")
        if not report.completed and report.produced_weight == 0:
            return NOTHING
        return self._estimate(usage=stream.usage, produced_weight=report.produced_weight)

    def _estimate(self, *, usage: GenUsage | None, produced_weight: int) -> Spend:
        # A usage reported mid-stream is a floor: the prompt count is exact, the completion grew since.
        prompt = usage.prompt if usage is not None else prompt_tokens(user=self.input.user, system=self.input.system)
        completion = max(tokens_of_weight(produced_weight), usage.total - usage.prompt if usage else 0)
        if self.completion_cap is not None:
            completion = min(completion, self.completion_cap)
        if self._reservation is not None:  # an estimate never costs more than was reserved
            prompt = min(prompt, self._reservation.amount)
            completion = min(completion, self._reservation.amount - prompt)
        return Spend(prompt=prompt, completion=completion, estimated=True)

    async def settle(self, spend: Spend) -> None:
        """Replace the reservation by ``spend`` (no-op after the first call, or without a reservation)."""
        if self._claim(spend):
            assert self._reservation is not None
            await self._budget.settle(self._reservation, cost=spend.total)

    async def settle_failed(self, spend: Spend, *, cancelled: bool) -> None:
        """A call that raised: settle now, or, when the request was cancelled (it must not wait), soon."""
        if cancelled:
            self.settle_soon(spend)
        else:
            await self.settle(spend)

    def settle_soon(self, spend: Spend) -> None:
        """``settle`` from code that cannot wait (a cancelled request, a stream's end): memory at once,
        Redis in a task of its own."""
        if self._claim(spend):
            assert self._reservation is not None
            self._budget.settle_soon(self._reservation, cost=spend.total)

    def _claim(self, spend: Spend) -> bool:
        if self._settled:
            return False
        self._settled = True
        if spend.estimated:
            annotate(usage_estimated=True)
        if self._reservation is None:
            return False
        annotate(budget_charged=spend.total)
        return True



# The key of a request no guard has keyed (a server built without the gateway's stack).
UNKEYED = "ip:unknown"


def client_key_of(ctx: RequestContext) -> str:
    """The key the rate limit counted this request under (its caller, org or IP): budgets and
    idempotency use it too."""
    return ctx.client_key or UNKEYED


async def budget(ctx: RequestContext) -> ResponsePayload:
    """``GET /v1/budget``: the caller's token budget windows (``[]`` when it has none)."""
    services = current_services()
    windows = await services.budget.state(client_key_of(ctx))
    return ResponsePayload(body={"windows": [window.to_json() for window in windows]})
