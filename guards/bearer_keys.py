"""Where the keys that verify bearer tokens come from: one static key (``AUTH_JWT_SECRET``,
``AUTH_JWT_PUBLIC_KEY``) or GoBE's published JWKS (``AUTH_JWKS_URL``), each with the algorithms its key
type allows (never ``none``, never an HMAC algorithm with a public key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK

RSA_ALGORITHMS: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS: Final = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
# Every algorithm a published (public) key may verify; symmetric keys have no place in a JWKS.
ASYMMETRIC_ALGORITHMS: Final = frozenset({*RSA_ALGORITHMS, *EC_ALGORITHMS.values(), "EdDSA"})


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationKey:
    """A key and the algorithms a token may name to be verified with it."""

    key: Any  # bytes (HMAC), a cryptography public key, or a PyJWK (bound to one algorithm)
    algorithms: Sequence[str]


class KeySource(Protocol):
    """Find the key for a token's ``kid`` and ``alg``; raise ``LookupError`` when there is none.
    ``algorithms`` is every algorithm its keys may verify: a token naming another is refused first."""

    algorithms: frozenset[str]

    async def start(self) -> None: ...

    async def key_for(self, *, kid: str | None, alg: str) -> VerificationKey: ...

    async def aclose(self) -> None: ...


class StaticKey:
    """One configured key: an HS256 secret or a PEM public key (RSA, EC or Ed25519)."""

    def __init__(self, *, secret: str | None = None, public_key_pem: str | None = None) -> None:
        if (secret is None) == (public_key_pem is None):
            raise ValueError("give exactly one of secret and public_key_pem")
        if secret is not None:
            self._key = VerificationKey(key=secret.encode(), algorithms=("HS256",))
        else:
            assert public_key_pem is not None
            self._key = public_key(public_key_pem)
        self.algorithms = frozenset(self._key.algorithms)

    async def start(self) -> None:
        return None

    async def key_for(self, *, kid: str | None, alg: str) -> VerificationKey:
        if alg not in self._key.algorithms:
            raise LookupError(f"algorithm {alg} is not allowed")
        return self._key

    async def aclose(self) -> None:
        return None


def public_key(pem: str) -> VerificationKey:
    """Load a PEM public key (``\\n`` escapes allowed, for one-line env files) with its algorithms."""
    key = load_pem_public_key(pem.replace("\\n", "\n").strip().encode())
    if isinstance(key, rsa.RSAPublicKey):
        return VerificationKey(key=key, algorithms=RSA_ALGORITHMS)
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in EC_ALGORITHMS:
        return VerificationKey(key=key, algorithms=(EC_ALGORITHMS[key.curve.name],))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return VerificationKey(key=key, algorithms=("EdDSA",))
    raise ValueError("not an RSA, EC (P-256/384/521) or Ed25519 public key")


def jwk_key(jwk: PyJWK) -> VerificationKey:
    """A JWKS key verifies exactly the one algorithm PyJWT bound it to."""
    return VerificationKey(key=jwk, algorithms=(jwk.algorithm_name,))
