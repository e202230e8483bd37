"""The GoBE client: one pooled ``httpx2.AsyncClient`` per process, the header policy both ways, timeouts,
the one quick GET retry, and httpx2 failures translated once into ``proxy.errors`` (GoBE failures, named as such).

Imports httpx2 (the httpx fork every provider SDK already loads: plain httpx would load its command-line
tool and its libraries with it, ~4 MB), the standard library and ``proxy.errors`` only.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie, CookieJar
from typing import Final

import httpx2

from proxy.errors import GoBEConnectionError, GoBETimeout

Headers = list[tuple[bytes, bytes]]

# What the PWA may tell GoBE (docs/api.md § Headers): credentials, content negotiation, conditional and
# range requests. Everything else (hop-by-hop, Host, Cookie, Forwarded, Expect, our own
# Idempotency-Key and friends) stays here. Accept-Encoding travels because bodies are relayed raw.
# X-Org-Id travels only from a trusted proxy, like X-Forwarded-For: a client never names its own org.
FORWARDED_REQUEST_HEADERS: Final = frozenset({
    b"authorization", b"content-type", b"content-length", b"content-encoding", b"accept",
    b"accept-encoding", b"accept-language", b"if-none-match", b"if-match", b"if-modified-since",
    b"if-unmodified-since", b"if-range", b"range",
})

# RFC 9110 §7.6.1 hop-by-hop fields, plus what the gateway itself decides on its answers: the server
# writes Date and Server, the access layer writes X-Request-Id, and CORS is one policy, the gateway's.
_DROPPED_RESPONSE_HEADERS: Final = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"proxy-connection",
    b"te", b"trailer", b"transfer-encoding", b"upgrade", b"date", b"server", b"x-request-id",
})

# 204 and 304 carry no body; a Content-Length there describes another response (RFC 9110 §8.6),
# and uvicorn would refuse to end the answer.
_BODYLESS_STATUSES: Final = frozenset({204, 304})
_GET_RETRY_DELAY_S: Final = 0.05
_UNSAFE_QUERY_BYTE: Final = re.compile(rb"[^\x21-\x7e]|#")
# httpx2's default pool sizes; idle connections expire at 4 s, below the 5 s idle timeout of uvicorn and
# Node, so we drop one before GoBE does and never send on a socket it is closing at that moment.
_LIMITS: Final = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)


class GoBEClient:
    """Forwards requests to ``base_url`` (an http(s) URL with a host: ``GatewaySettings`` validates
    ``GOBE_BASE_URL`` at start-up); the path is always appended under it, never resolved."""

    def __init__(
        self,
        *,
        base_url: str,
        connect_timeout_s: float,
        read_timeout_s: float,
        forward_cookies: bool = False,
        trusted_peer: Callable[[str], bool] = lambda _peer: False,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = httpx2.URL(base_url)
        # Writes wait on GoBE reading the upload, so they get the read budget; the pool the connect one.
        self.timeout = httpx2.Timeout(connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s,
                                     pool=connect_timeout_s)
        self.forward_cookies = forward_cookies
        self.trusted_peer = trusted_peer  # TRUSTED_PROXIES, judged by the one parser (guards.ClientKeys)
        self.transport = transport  # None: httpx2's pooled HTTP transport; tests may bring their own
        self._client: httpx2.AsyncClient | None = None

    @property
    def client(self) -> httpx2.AsyncClient:
        """The shared pool, created on first use (inside the server's event loop)."""
        if self._client is None:
            # trust_env=False: HTTP(S)_PROXY or .netrc must never reroute or decorate GoBE calls.
            self._client = httpx2.AsyncClient(
                timeout=self.timeout, follow_redirects=False, trust_env=False, transport=self.transport,
                cookies=_NoCookieJar(), limits=_LIMITS,
                headers={"accept-encoding": "identity", "user-agent": "grompt-gateway"},
            )
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def url(self, path: str, *, query: bytes) -> httpx2.URL:
        """``path`` (as ``normalise_path`` returns it) under the base URL, with the query kept verbatim
        except bytes a URL cannot carry raw, which are percent-encoded."""
        base_path = self.base_url.raw_path.split(b"?")[0].rstrip(b"/")
        query = _UNSAFE_QUERY_BYTE.sub(lambda m: b"%%%02X" % m.group()[0], query)
        target = base_path + b"/" + path.encode("ascii") + (b"?" + query if query else b"")
        return self.base_url.copy_with(raw_path=target)

    def request_headers(
        self, headers: Iterable[tuple[bytes, bytes]], *, client_ip: str | None, scheme: str, request_id: str
    ) -> Headers:
        """The request's forwardable headers, plus ``X-Request-Id`` and ``X-Forwarded-For``/``-Proto``."""
        forwarded: Headers = []
        chain: list[bytes] = []
        proto: bytes | None = None
        orgs: Headers = []
        headers = list(headers)
        hop_by_hop = connection_tokens(value for name, value in headers if name == b"connection")
        for name, value in headers:
            if name in hop_by_hop:  # RFC 9110 §7.6.1: named in Connection, meant for us alone
                continue
            if name in FORWARDED_REQUEST_HEADERS or (name == b"cookie" and self.forward_cookies):
                forwarded.append((name, value))
            elif name == b"x-forwarded-for":
                chain.append(value)
            elif name == b"x-forwarded-proto" and proto is None:
                proto = value
            elif name == b"x-org-id":
                orgs.append((name, value))
        if client_ip is None or not self.trusted_peer(client_ip):  # a client's own X-Forwarded-* are not believed
            chain, proto, orgs = [], None, []
        forwarded += orgs
        if client_ip is not None:
            chain.append(client_ip.encode())
        if chain:
            forwarded.append((b"x-forwarded-for", b", ".join(chain)))
        forwarded.append((b"x-forwarded-proto", proto or scheme.encode()))
        forwarded.append((b"x-request-id", request_id.encode()))
        return forwarded

    def response_headers(self, response: httpx2.Response) -> Headers:
        """GoBE's headers minus hop-by-hop ones, ours, CORS, and ``Set-Cookie`` unless cookies travel."""
        listed = connection_tokens(value for name, value in response.headers.raw if name.lower() == b"connection")
        kept: Headers = []
        for raw_name, value in response.headers.raw:
            name = raw_name.lower()
            if (name in _DROPPED_RESPONSE_HEADERS or name in listed or name.startswith(b"access-control-")
                    or (name == b"set-cookie" and not self.forward_cookies)
                    or (name == b"content-length" and response.status_code in _BODYLESS_STATUSES)):
                continue
            kept.append((name, value))
        return kept

    async def open(
        self, *, method: str, url: httpx2.URL, headers: Headers, body: AsyncIterable[bytes] | None
    ) -> httpx2.Response:
        """Send the request and return once GoBE's status and headers are in (the body still streams).

        A GET that could not connect is tried once more: nothing reached GoBE, and GET is safe.
        Non-idempotent methods are never retried.
        """
        request = self.client.build_request(method, url, headers=headers, content=body)
        with translate_errors():
            try:
                return await self.client.send(request, stream=True)
            except httpx2.ConnectError:
                if method != "GET":
                    raise
            await asyncio.sleep(_GET_RETRY_DELAY_S)
            return await self.client.send(request, stream=True)

    async def body(self, response: httpx2.Response) -> AsyncIterator[bytes]:
        """GoBE's body as it arrives, still content-encoded, so it is relayed byte for byte."""
        with translate_errors():
            async for chunk in response.aiter_raw():
                yield chunk


def connection_tokens(values: Iterable[bytes]) -> frozenset[bytes]:
    """The header names listed in ``Connection`` fields (comma-separated, any case, any number of lines)."""
    return frozenset(token.strip().lower() for value in values for token in value.split(b",") if token.strip())


class _NoCookieJar(CookieJar):
    """The pool is shared by every user: a cookie GoBE sets for one must never ride along with another's
    request, so the client keeps none (cookies pass through as plain headers, if at all)."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: object, request: object) -> None:
        return None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Map httpx2 failures to the contract: timeouts are 504, anything else on the wire is 502."""
    try:
        yield
    except httpx2.TimeoutException as exc:  # before TransportError: it is one
        raise GoBETimeout("GoBE did not answer in time") from exc
    except httpx2.ConnectError as exc:
        raise GoBEConnectionError("GoBE is unreachable") from exc
    except httpx2.TransportError as exc:
        raise GoBEConnectionError("GoBE closed the connection") from exc
