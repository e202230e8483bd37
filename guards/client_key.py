"""The client key a request is counted and deduplicated under: the org (or user) of a verified bearer
token, else an ``X-Org-Id`` set by a trusted proxy, else the client's IP address.

``X-Org-Id`` and ``X-Forwarded-For`` are believed only from a peer in ``TRUSTED_PROXIES``, so a client can
never pick its own bucket by sending either header (docs/api.md § Headers, § Who is counted).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from typing import Final

from starlette.types import Scope

from guards.asgi import header
from guards.caller import CALLER_SCOPE, Caller, loggable_id

# The ASGI scope entry where the rate-limit layer leaves the key for handlers (idempotency scoping).
CLIENT_KEY_SCOPE: Final = "grompt.client_key"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """IPs and CIDRs as networks; networks pass as they are. ``TRUSTED_PROXIES`` itself is validated
    once, at start-up, by ``GatewaySettings``, which hands the parsed networks through wiring."""
    return tuple(entry if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network)
                 else ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


class ClientKeys:
    """Derive ``org:<id>``, ``user:<id>`` or ``ip:<address>`` from an ASGI scope."""

    def __init__(self, *, trusted_proxies: Iterable[str | IPNetwork] = ()) -> None:
        self._trusted = parse_trusted_proxies(trusted_proxies)

    def key_for(self, scope: Scope) -> str:
        """The one place a client key is made: every guard (rate limit, idempotency, budgets) uses it."""
        caller: Caller | None = scope.get(CALLER_SCOPE)
        if caller is not None:
            return org_key(caller.org) if caller.org is not None else user_key(caller.id)
        org = header(scope, b"x-org-id")
        if org is not None and org.strip() and self._peer_is_trusted(scope):
            return org_key(org.strip())
        return "ip:" + self.client_ip(scope)

    def _peer_is_trusted(self, scope: Scope) -> bool:
        client = scope.get("client")
        return client is not None and self.is_trusted_peer(client[0])

    def client_ip(self, scope: Scope) -> str:
        """The peer, or the right-most ``X-Forwarded-For`` hop not written by a trusted proxy."""
        client = scope.get("client")
        address = _parse_ip(client[0]) if client else None
        if address is None:
            return "unknown"  # e.g. a Unix socket: there is no peer address to trust or count
        forwarded = _forwarded_for(scope)
        while self._is_trusted(address) and forwarded:
            hop = _parse_ip(forwarded.pop())
            if hop is None:
                break  # a trusted proxy handed us something that is not an address: count that proxy
            address = hop
        return _bucket(address)

    def _is_trusted(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self._trusted)

    def is_trusted_peer(self, peer: str) -> bool:
        """Tell whether ``peer`` (an address string) is one of TRUSTED_PROXIES."""
        address = _parse_ip(peer)
        return address is not None and self._is_trusted(address)


def org_key(org_id: str) -> str:
    """``org:<id>`` for a short id of safe characters; anything else is hashed, so keys stay bounded."""
    return _bounded("org", org_id)


def user_key(user_id: str) -> str:
    """``user:<id>``, bounded like ``org_key``: the key of a verified caller whose token names no org."""
    return _bounded("user", user_id)


def _bounded(kind: str, value: str) -> str:
    ident = loggable_id(value)
    return f"{kind}{ident}" if ident.startswith("#") else f"{kind}:{ident}"


def _forwarded_for(scope: Scope) -> list[str]:
    # Repeated header fields are one comma-separated list, in order (RFC 9110 §5.3).
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"x-forwarded-for"]
    return [hop.strip() for hop in ",".join(values).split(",") if hop.strip()]


# Every request parses its peer's address (a handful of peers, mostly): the same string parses to the same
# immutable address, so the parse is remembered. Bounded, and it holds strings and addresses only.
@functools.lru_cache(maxsize=4096)
def _parse_ip(raw: str) -> IPAddress | None:
    text = raw.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)
def _bucket(address: IPAddress) -> str:
    # One IPv6 host usually owns a whole /64: count the prefix, as django-ratelimit does by default.
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
