"""Real keys for bearer-token tests, made in the test run: RSA, EC P-256 and an HS256 secret, tokens
signed with them, and ``JwksServer``, GoBE's JWK Set served by a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

ISSUER = "https://gobe.test"
AUDIENCE = "grompt-gateway"
SECRET = "s3cret-for-tests-only-0123456789abcdef"


@dataclass(frozen=True)
class SigningKey:
    """A private key, its ``kid`` and algorithm; ``jwk`` is the public half as GoBE would publish it."""

    private: Any
    kid: str
    alg: str

    @property
    def jwk(self) -> dict[str, Any]:
        codec = RSAAlgorithm if self.alg.startswith(("RS", "PS")) else ECAlgorithm
        return {**codec.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "alg": self.alg,
                "use": "sig"}

    @property
    def public_pem(self) -> str:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def token(self, **claims: Any) -> str:
        return sign(self.private, alg=self.alg, kid=self.kid, **claims)


def rsa_key(kid: str = "rsa-1") -> SigningKey:
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid, "RS256")


def ec_key(kid: str = "ec-1") -> SigningKey:
    return SigningKey(ec.generate_private_key(ec.SECP256R1()), kid, "ES256")


def claims(**overrides: Any) -> dict[str, Any]:
    """A valid claim set for ``ISSUER``/``AUDIENCE``, valid for 5 minutes; ``None`` values are dropped."""
    now = int(time.time())
    base = {"sub": "user-1", "org": "acme", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now,
            "exp": now + 300}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def sign(key: Any, *, alg: str, kid: str | None = None, **overrides: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims(**overrides), key, algorithm=alg, headers=headers)


def hmac_forged(secret: bytes, *, kid: str | None = None, **overrides: Any) -> str:
    """HS256 by hand, with any bytes as the secret (PyJWT refuses a PEM key as an HMAC secret to sign with,
    an attacker does not): the key-type confusion attack on a public key."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = b".".join(base64url_encode(json.dumps(part).encode()) for part in (header, claims(**overrides)))
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64url_encode(signature)).decode()


def unsigned(**overrides: Any) -> str:
    """``alg: none``: a token anyone can write."""
    return jwt.encode(claims(**overrides), None, algorithm="none")


@dataclass
class JwksServer:
    """Serves ``{"keys": [...]}`` at ``/jwks.json`` on 127.0.0.1 and counts the fetches."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    fetches: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/jwks.json"

    def start(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200 if self.path == "/jwks.json" else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="jwks", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
