"""TokenVerifier with real keys made here: a JWKS (RS256, ES256) served on loopback, an HS256 secret and
PEM public keys; every way a token can be wrong is a 401, and keys that cannot be fetched are a 503."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

import jwt
import pytest

from guards import Caller
from guards.bearer_auth import TokenVerifier
from guards.bearer_keys import StaticKey
from guards.errors import AuthUnavailable, Unauthorized
from guards.jwks import JwksKeys
from tests.guards.tokens import (
    AUDIENCE,
    ISSUER,
    SECRET,
    JwksServer,
    SigningKey,
    ec_key,
    hmac_forged,
    rsa_key,
    sign,
    unsigned,
)
from tests.support.clock import Clock
from tests.support.process import free_port

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def rsa() -> SigningKey:
    return rsa_key()


@pytest.fixture(scope="module")
def es() -> SigningKey:
    return ec_key()


@pytest.fixture
def jwks(rsa: SigningKey, es: SigningKey) -> Iterator[JwksServer]:
    server = JwksServer(keys=[rsa.jwk, es.jwk]).start()
    yield server
    server.stop()


def verifier(keys: JwksKeys | StaticKey, **overrides: str | None) -> TokenVerifier:
    options: dict[str, str | None] = {"issuer": ISSUER, "audience": AUDIENCE, **overrides}
    return TokenVerifier(keys=keys, issuer=options["issuer"], audience=options["audience"],
                         org_claim=options.get("org_claim") or "org")


async def started(server: JwksServer, clock: Clock | None = None) -> JwksKeys:
    keys = JwksKeys(url=server.url, clock=clock or Clock())
    await keys.start()
    return keys


async def refused(check: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        await check.verify(token)
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    return caught.value.message


async def test_rs256_and_es256_tokens_from_the_jwks_name_the_caller(jwks: JwksServer, rsa: SigningKey,
                                                                    es: SigningKey) -> None:
    check = verifier(await started(jwks))
    assert await check.verify(rsa.token()) == Caller(id="user-1", org="acme")
    assert await check.verify(es.token(sub="user-2", org=None)) == Caller(id="user-2", org=None)
    assert jwks.fetches == 1  # fetched once, at start-up


async def test_hs256_with_the_shared_secret() -> None:
    check = verifier(StaticKey(secret=SECRET))
    assert await check.verify(sign(SECRET, alg="HS256")) == Caller(id="user-1", org="acme")
    assert await refused(check, sign("another-secret-of-32-bytes-or-more!!", alg="HS256")) == (
        "token signature invalid")


async def test_pem_public_keys_rsa_and_ec(rsa: SigningKey, es: SigningKey) -> None:
    assert await verifier(StaticKey(public_key_pem=rsa.public_pem)).verify(rsa.token()) == Caller(id="user-1",
                                                                                                   org="acme")
    one_line = es.public_pem.replace("\n", "\\n")  # as an env file holds it
    assert (await verifier(StaticKey(public_key_pem=one_line)).verify(es.token(org="o-2"))).org == "o-2"


@pytest.mark.parametrize(("claims", "reason"), [
    ({"exp": -120}, "token expired"),
    ({"nbf": 120}, "token not yet valid"),
    ({"iss": "https://evil.test"}, "token issuer not accepted"),
    ({"aud": "someone-else"}, "token audience not accepted"),
    ({"exp": None}, "token lacks a required claim"),
    ({"sub": None}, "token lacks a required claim"),
    ({"iss": None}, "token lacks a required claim"),
    ({"org": ["a", "b"]}, "token claim org is not a string"),
])
async def test_bad_claims_are_refused(jwks: JwksServer, rsa: SigningKey, claims: dict[str, int | str | None],
                                      reason: str) -> None:
    now = int(time.time())
    timed = {k: now + v if k in ("exp", "nbf") and isinstance(v, int) else v for k, v in claims.items()}
    assert await refused(verifier(await started(jwks)), rsa.token(**timed)) == reason


async def test_exp_and_nbf_have_a_small_leeway(jwks: JwksServer, rsa: SigningKey) -> None:
    now = int(time.time())
    check = verifier(await started(jwks))
    assert await check.verify(rsa.token(exp=now - 10, nbf=now + 10))
    assert await refused(check, rsa.token(exp=now - 60)) == "token expired"


async def test_a_wrong_signature_is_refused(jwks: JwksServer, rsa: SigningKey) -> None:
    impostor = SigningKey(rsa_key().private, rsa.kid, "RS256")  # same kid, another private key
    assert await refused(verifier(await started(jwks)), impostor.token()) == "token signature invalid"
    head, _claims, signature = rsa.token().split(".")
    admin = jwt.utils.base64url_encode(b'{"sub":"admin","exp":9999999999}').decode()
    tampered = f"{head}.{admin}.{signature}"
    assert await refused(verifier(await started(jwks)), tampered) == "token signature invalid"


async def test_alg_none_is_refused_by_every_key_source(jwks: JwksServer, rsa: SigningKey) -> None:
    for keys in (await started(jwks), StaticKey(secret=SECRET), StaticKey(public_key_pem=rsa.public_pem)):
        assert await refused(verifier(keys), unsigned()) == "token not accepted: algorithm none is not allowed"


async def test_an_hs256_token_signed_with_the_public_key_is_refused(jwks: JwksServer, rsa: SigningKey) -> None:
    """Key-type confusion: the public key is public, so HMAC with it proves nothing."""
    forged_pem = hmac_forged(rsa.public_pem.encode(), kid=rsa.kid)
    forged_jwk = hmac_forged(rsa.jwk["n"].encode(), kid=rsa.kid)
    for keys in (StaticKey(public_key_pem=rsa.public_pem), await started(jwks)):
        assert await refused(verifier(keys), forged_pem)
        assert await refused(verifier(keys), forged_jwk)


async def test_an_unknown_kid_refetches_once_a_minute_at_most(jwks: JwksServer, rsa: SigningKey) -> None:
    clock = Clock()
    check = verifier(await started(jwks, clock))
    stranger = rsa_key("unknown-1")
    await refused(check, stranger.token())
    assert jwks.fetches == 1  # the start-up fetch was less than a minute ago
    clock.now += 60
    assert await refused(check, stranger.token()) == "token not accepted: unknown key id"
    assert jwks.fetches == 2  # start-up, then one refetch for the unknown kid
    for n in range(5):
        await refused(check, rsa_key(f"forged-{n}").token() if n == 0 else stranger.token())
    clock.now += 59
    await refused(check, stranger.token())
    assert jwks.fetches == 2  # a flood of unknown kids costs GoBE nothing more within the minute
    clock.now += 1
    rotated = rsa_key("rsa-2")
    jwks.keys.append(rotated.jwk)  # GoBE rotates a key in
    assert await check.verify(rotated.token()) == Caller(id="user-1", org="acme")
    assert jwks.fetches == 3


async def test_a_jwks_that_cannot_be_fetched_is_a_log_line_and_a_503_until_it_can(
        rsa: SigningKey, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    port = free_port()
    keys = JwksKeys(url=f"http://127.0.0.1:{port}/jwks.json", clock=clock)
    with caplog.at_level(logging.ERROR, logger="guards.auth"):
        await keys.start()
    lines = [r.getMessage() for r in caplog.records if r.name == "guards.auth"]
    assert len(lines) == 1 and f"AUTH_JWKS_URL http://127.0.0.1:{port}/jwks.json could not be fetched" in lines[0]
    assert "503" in lines[0]
    check = verifier(keys)
    with pytest.raises(AuthUnavailable) as caught:
        await check.verify(rsa.token())
    assert caught.value.retry_after_s is not None
    assert keys.fetches == 1  # within 5 s of the last attempt: no new one
    clock.now += 5
    with pytest.raises(AuthUnavailable):
        await check.verify(rsa.token())
    assert keys.fetches == 2


async def test_a_jwks_that_is_not_a_key_set_is_not_an_open_door(rsa: SigningKey) -> None:
    for served in ([], [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]):
        server = JwksServer(keys=served).start()
        try:
            with pytest.raises(AuthUnavailable):
                await verifier(await started(server)).verify(rsa.token())
        finally:
            server.stop()


async def test_an_aud_is_refused_when_no_audience_is_configured(jwks: JwksServer, rsa: SigningKey) -> None:
    check = verifier(await started(jwks), audience=None, issuer=None)
    assert await check.verify(rsa.token(aud=None, iss=None)) == Caller(id="user-1", org="acme")
    assert await refused(check, rsa.token()) == "token audience not accepted"


async def test_the_org_claim_is_configurable_and_numbers_are_ids(jwks: JwksServer, rsa: SigningKey) -> None:
    check = verifier(await started(jwks), org_claim="https://gobe.test/org")
    assert (await check.verify(rsa.token(**{"https://gobe.test/org": 42}))).org == "42"
    assert (await check.verify(rsa.token())).org is None


async def test_garbage_is_refused() -> None:
    check = verifier(StaticKey(secret=SECRET))
    for token in ("", "abc", "a.b.c", "x" * 9000):
        await refused(check, token)


async def test_old_keys_are_refreshed_in_the_background_without_delaying_requests(jwks: JwksServer,
                                                                                  rsa: SigningKey) -> None:
    clock = Clock()
    keys = await started(jwks, clock)
    check = verifier(keys)
    clock.now += 601  # older than max_age_s: still used, and refreshed behind the request
    revoked = jwks.keys.pop(0)  # GoBE drops the RSA key
    assert await check.verify(rsa.token()) == Caller(id="user-1", org="acme")
    for _ in range(500):  # bounded: the refresh is one loopback request
        if jwks.fetches == 2 and keys._inflight is not None and keys._inflight.done():
            break
        await asyncio.sleep(0.01)
    assert jwks.fetches == 2
    assert revoked["kid"] == rsa.kid
    assert await refused(check, rsa.token()) == "token not accepted: unknown key id"


async def test_the_jwks_url_is_logged_without_credentials_or_query(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    keys = JwksKeys(url=f"http://gobe:pa55word@127.0.0.1:{port}/jwks.json?access_token=s3cr3t", clock=Clock())
    with caplog.at_level(logging.ERROR, logger="guards.auth"):
        await keys.start()
    line = "\n".join(r.getMessage() for r in caplog.records if r.name == "guards.auth")
    assert f"http://127.0.0.1:{port}/jwks.json could not be fetched" in line
    assert "pa55word" not in line and "s3cr3t" not in line
