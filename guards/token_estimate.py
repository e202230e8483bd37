"""A conservative token count from text alone, for budget reservations and for calls that ended without
reported usage. Pure functions of the standard library; the reasoning is in guards/README.md § Token budgets.

Estimate = ceil((UTF-8 bytes + ASCII digits) / 2), plus ``MESSAGE_OVERHEAD`` per prompt message.
"""

from __future__ import annotations

import math
from typing import Final

# Chat formats wrap each message in role markers and separators (3–4 tokens at OpenAI, fewer elsewhere).
MESSAGE_OVERHEAD: Final = 8
_DIGITS: Final = b"0123456789"


def text_weight(text: str) -> int:
    """Twice the estimated tokens of ``text``: its UTF-8 bytes plus its ASCII digits.

    Additive, so a stream can sum the weights of its chunks and estimate once at the end.
    """
    data = text.encode("utf-8", "surrogatepass")
    return 2 * len(data) - len(data.translate(None, _DIGITS))


def tokens_of_weight(weight: int) -> int:
    """Tokens for a summed ``text_weight``."""
    return math.ceil(weight / 2)


def text_tokens(text: str) -> int:
    """Estimated tokens of one text, without message overhead."""
    return tokens_of_weight(text_weight(text))


def prompt_tokens(*, user: str, system: str | None) -> int:
    """Estimated prompt tokens of a call: both texts and the overhead of each message sent."""
    messages = 1 if not system else 2
    weight = text_weight(user) + (text_weight(system) if system else 0)
    return tokens_of_weight(weight) + MESSAGE_OVERHEAD * messages
