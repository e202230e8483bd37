"""GoBE's bearer tokens through a real gateway: 401s in the contract's shape with WWW-Authenticate,
AUTH_REQUIRED, a 503 while the JWKS is down, and the verified caller keying the rate limit and the
idempotency scope and reaching the access line (never the token)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from mockllm import MockLLMServer
from tests.guards.tokens import AUDIENCE, ISSUER, SECRET, JwksServer, SigningKey, hmac_forged, rsa_key, sign, unsigned
from tests.support.clock import fresh_clock
from tests.support.gateway import GatewayThread
from tests.support.process import free_port

Start = Callable[..., GatewayThread]
BODY = {"user": "hi"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key()


@pytest.fixture
def jwks(key: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer(keys=[key.jwk]).start()
    yield server
    server.stop()


def authed(gateway_with: Start, jwks: JwksServer, **overrides: object) -> GatewayThread:
    return gateway_with(auth_jwks_url=jwks.url, auth_issuer=ISSUER, auth_audience=AUDIENCE, **overrides)


def post(gateway: GatewayThread, token: str | None = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{gateway.url}/v1/generate", json=BODY, headers=headers, timeout=10)


def assert_unauthorized(response: httpx.Response, challenge: str = 'Bearer error="invalid_token"') -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["requestId"] == response.headers["x-request-id"]


def test_a_valid_token_is_served_and_invalid_ones_are_401(gateway_with: Start, jwks: JwksServer, key: SigningKey,
                                                         mock_llm: MockLLMServer) -> None:
    gateway = authed(gateway_with, jwks)
    assert post(gateway, key.token()).status_code == 200
    for token in (key.token(exp=1), unsigned(), hmac_forged(key.public_pem.encode(), kid=key.kid),
                  rsa_key(key.kid).token(), "not-a-jwt"):
        assert_unauthorized(post(gateway, token))
    assert_unauthorized(post(gateway, Authorization="Basic dXNlcjpwYXNz"))
    with httpx.stream("GET", f"{gateway.url}/v1/generate/stream", params=BODY,
                      headers={"Authorization": f"Bearer {key.token(exp=1)}"}, timeout=10) as stream:
        stream.read()
    assert_unauthorized(stream)
    assert len(mock_llm.requests) == 1  # no refused call reached the provider


def test_without_auth_required_anonymous_callers_are_served_and_with_it_refused(
        gateway_with: Start, jwks: JwksServer) -> None:
    assert post(authed(gateway_with, jwks)).status_code == 200
    required = authed(gateway_with, jwks, auth_required=True)
    assert_unauthorized(post(required), challenge="Bearer")
    assert httpx.get(f"{required.url}/v1/health").status_code == 200  # only the paid routes


def test_a_jwks_that_is_down_is_a_503_for_tokens(gateway_with: Start, key: SigningKey) -> None:
    gateway = gateway_with(auth_jwks_url=f"http://127.0.0.1:{free_port()}/jwks.json")
    refused = post(gateway, key.token())
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "auth_unavailable"
    assert post(gateway).status_code == 200  # anonymous callers need no keys


def test_the_access_line_gets_user_and_org_never_the_token(gateway_with: Start, jwks: JwksServer, key: SigningKey,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    gateway = authed(gateway_with, jwks)
    token = key.token(sub="user-7", org="acme", email="ada@example.com")
    expired = key.token(sub="user-8", exp=1)
    caplog.set_level(logging.DEBUG)
    assert post(gateway, token).status_code == 200
    assert_unauthorized(post(gateway, expired))
    served, refused = access_lines(caplog, count=2)
    assert (served.user, served.org, served.status) == ("user-7", "acme", 200)  # type: ignore[attr-defined]
    assert refused.status == 401 and not hasattr(refused, "user")  # type: ignore[attr-defined]
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (token, expired, token.split(".")[1], "ada@example.com"):
        assert secret not in everything


def access_lines(caplog: pytest.LogCaptureFixture, *, count: int) -> list[logging.LogRecord]:
    """The first ``count`` access lines of /v1/generate (each is written just after its response)."""
    deadline = time.monotonic() + 5
    while True:
        lines = [r for r in caplog.records if r.name == "grompt_gateway.access" and getattr(r, "path", "") ==
                 "/v1/generate"]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines[:count]
        time.sleep(0.01)


def test_the_rate_limit_is_keyed_on_the_org_whatever_the_user_or_headers(
        gateway_with: Start, jwks: JwksServer, key: SigningKey) -> None:
    gateway = authed(gateway_with, jwks, rate_limit_rps=3, trusted_proxies=(), clock=fresh_clock())
    tokens = [key.token(sub=f"user-{n}", org="acme") for n in range(4)]
    assert [post(gateway, token, **{"X-Org-Id": uuid.uuid4().hex}).status_code for token in tokens] == [
        200, 200, 200, 429]
    alone = key.token(sub="ada", org=None)  # a token without an org is counted under its user
    assert [post(gateway, alone).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_idempotency_is_scoped_by_the_verified_org(gateway_with: Start, jwks: JwksServer, key: SigningKey,
                                                   mock_llm: MockLLMServer) -> None:
    gateway = authed(gateway_with, jwks)
    idem = uuid.uuid4().hex
    first = post(gateway, key.token(sub="ada", org="acme"), **{"Idempotency-Key": idem})
    same_org = post(gateway, key.token(sub="bob", org="acme"), **{"Idempotency-Key": idem})
    other_org = post(gateway, key.token(sub="eve", org="globex"), **{"Idempotency-Key": idem, "X-Org-Id": "acme"})
    assert same_org.headers["idempotent-replayed"] == "true" and same_org.json() == first.json()
    assert "idempotent-replayed" not in other_org.headers
    assert len(mock_llm.requests) == 2


def test_hs256_secret_and_pem_key_gateways(gateway_with: Start, key: SigningKey) -> None:
    secret = gateway_with(auth_jwt_secret=SECRET, auth_audience=AUDIENCE, auth_issuer=ISSUER)
    assert post(secret, sign(SECRET, alg="HS256")).status_code == 200
    assert_unauthorized(post(secret, key.token()))
    pem = gateway_with(auth_jwt_public_key=key.public_pem.replace("\n", "\\n"), auth_audience=AUDIENCE,
                       auth_issuer=ISSUER)
    assert post(pem, key.token()).status_code == 200
    assert_unauthorized(post(pem, sign(SECRET, alg="HS256")))


def test_token_budgets_are_kept_per_verified_org(gateway_with: Start, jwks: JwksServer, key: SigningKey) -> None:
    gateway = authed(gateway_with, jwks, token_budget_per_minute=100_000)
    org = uuid.uuid4().hex

    def used(token: str) -> int:
        response = httpx.get(f"{gateway.url}/v1/budget", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200
        return int(response.json()["windows"][0]["used"])

    ada, bob, eve = key.token(sub="ada", org=org), key.token(sub="bob", org=org), key.token(sub="eve", org=None)
    assert post(gateway, ada, **{"X-Org-Id": "someone-else"}).status_code == 200
    assert used(bob) == used(ada) > 0  # one org, one budget, whoever spends and whatever the headers say
    assert used(eve) == 0
    assert_unauthorized(httpx.get(f"{gateway.url}/v1/budget", headers={"Authorization": "Bearer x.y.z"}))
