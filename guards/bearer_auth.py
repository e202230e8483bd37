"""GoBE's bearer tokens on the gateway's own paid routes (docs/api.md § Headers, § Who is counted): the
``TokenVerifier`` (PyJWT: signature, algorithm allow-list, ``exp``/``nbf`` with a small leeway, issuer,
audience) and the ``BearerAuth`` ASGI layer, which leaves the verified ``Caller`` in ``scope[CALLER_SCOPE]``
for the client key, the handlers and the access line. Before the rate limit, so limits see the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import jwt
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWTError,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from guards.asgi import header
from guards.bearer_keys import KeySource
from guards.caller import CALLER_SCOPE, Caller
from guards.errors import Unauthorized

LEEWAY_S: Final = 30  # clock skew allowed on exp and nbf
MAX_TOKEN_CHARS: Final = 8192

# Why a token was refused, in words a client may see (never the token or its claims).
_REASONS: Final[tuple[tuple[type[PyJWTError], str], ...]] = (
    (ExpiredSignatureError, "token expired"),
    (ImmatureSignatureError, "token not yet valid"),
    (InvalidIssuerError, "token issuer not accepted"),
    (InvalidAudienceError, "token audience not accepted"),
    (InvalidSignatureError, "token signature invalid"),
    (MissingRequiredClaimError, "token lacks a required claim"),
)


class TokenVerifier:
    """Turn a JWT into a ``Caller`` or raise ``Unauthorized`` (``AuthUnavailable`` when keys are missing)."""

    def __init__(self, *, keys: KeySource, issuer: str | None, audience: str | None, org_claim: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.org_claim = org_claim
        required = ["exp", "sub"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
        self._options: Any = {"require": required}

    async def verify(self, token: str) -> Caller:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized("token too long")
        try:
            head = jwt.get_unverified_header(token)
        except PyJWTError:
            raise Unauthorized("token malformed") from None
        alg, kid = head.get("alg"), head.get("kid")
        if not isinstance(alg, str) or (kid is not None and not isinstance(kid, str)):
            raise Unauthorized("token header malformed")
        if alg not in self.keys.algorithms:  # "none", or HS256 where only public keys are configured
            raise Unauthorized(f"token not accepted: algorithm {alg[:16]} is not allowed")
        try:
            key = await self.keys.key_for(kid=kid, alg=alg)
        except LookupError as exc:
            raise Unauthorized(f"token not accepted: {exc}") from None
        try:
            claims = jwt.decode(token, key.key, algorithms=list(key.algorithms), issuer=self.issuer,
                                audience=self.audience, leeway=LEEWAY_S, options=self._options)
        except PyJWTError as exc:
            raise Unauthorized(_reason(exc)) from None
        return self._caller(claims)

    def _caller(self, claims: dict[str, Any]) -> Caller:
        sub, org = claims.get("sub"), claims.get(self.org_claim)
        if not isinstance(sub, str) or not sub:
            raise Unauthorized("token subject missing")
        if isinstance(org, int) and not isinstance(org, bool):
            org = str(org)
        if org is not None and not isinstance(org, str):
            raise Unauthorized(f"token claim {self.org_claim} is not a string")
        return Caller(id=sub, org=org or None)


def _reason(exc: PyJWTError) -> str:
    return next((text for kind, text in _REASONS if isinstance(exc, kind)), "token invalid")


class BearerAuth:
    """ASGI layer: verify ``Authorization: Bearer`` on requests under ``prefixes``; with ``required``,
    refuse those without one. Other routes (the GoBE proxy checks its own) pass untouched."""

    def __init__(self, app: ASGIApp, *, verifier: TokenVerifier, required: bool, prefixes: tuple[str, ...],
                 annotate: Callable[..., None] = lambda **_fields: None) -> None:
        self.app = app
        self.verifier = verifier
        self.required = required
        self.prefixes = prefixes
        self.annotate = annotate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS" and scope["path"].startswith(self.prefixes):
            caller = await self._caller(header(scope, b"authorization"))
            if caller is not None:
                scope[CALLER_SCOPE] = caller
                self.annotate(**caller.log_fields())
        await self.app(scope, receive, send)

    async def _caller(self, authorization: str | None) -> Caller | None:
        if authorization is None or not authorization.strip():
            if self.required:
                raise Unauthorized("a bearer token is required", missing=True)
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be: Bearer <token>")
        return await self.verifier.verify(token.strip())
