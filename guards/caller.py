"""Who is calling, as a verified bearer token says: the one place the guards, the handlers
(``RequestContext.user``) and the access line read it from (``scope[CALLER_SCOPE]``)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

# The ASGI scope entry where the bearer-token layer leaves the verified caller; absent for anonymous calls.
CALLER_SCOPE: Final = "grompt.caller"

_LOGGABLE_ID: Final = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """The token's ``sub`` and the org its org claim names (None when the token names none)."""

    id: str
    org: str | None = None

    def log_fields(self) -> dict[str, str]:
        """``user`` and ``org`` for the access line: the ids only, never the token or other claims."""
        fields = {"user": loggable_id(self.id)}
        if self.org is not None:
            fields["org"] = loggable_id(self.org)
        return fields


def loggable_id(value: str) -> str:
    """A short id of safe characters as it is; anything else as ``#`` and a hash, so a log line stays
    one bounded line whatever a token carries."""
    if _LOGGABLE_ID.fullmatch(value):
        return value
    return "#" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]
