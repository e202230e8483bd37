"""The client key: a verified caller's org (else user), else X-Org-Id from a trusted proxy, else the peer IP;
X-Org-Id and X-Forwarded-For are believed only from trusted proxies."""

from __future__ import annotations

from typing import Any

from grompt_gateway.config import GatewaySettings
from guards import CALLER_SCOPE, Caller, ClientKeys

EDGE = "10.0.0.1"


def scope(peer: str | None = "198.51.100.7", **headers: str | list[str]) -> dict[str, Any]:
    pairs: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name.replace("_", "-").lower().encode(), item.encode()))
    return {"type": "http", "client": (peer, 5000) if peer else None, "headers": pairs}


def test_org_id_from_a_trusted_proxy_is_the_key() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8",))
    assert keys.key_for(scope(EDGE, x_org_id="acme-42")) == "org:acme-42"
    assert keys.key_for(scope(EDGE, x_org_id="  acme-42 ")) == "org:acme-42"


def test_org_id_from_an_untrusted_peer_is_ignored_and_the_ip_counts() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8",))
    assert keys.key_for(scope(x_org_id="acme-42")) == "ip:198.51.100.7"
    assert ClientKeys().key_for(scope("127.0.0.1", x_org_id="acme-42")) == "ip:127.0.0.1"
    assert keys.key_for(scope(None, x_org_id="acme-42")) == "ip:unknown"  # no peer: nobody to trust


def test_org_id_is_judged_by_the_peer_not_by_a_forwarded_for_hop() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8",))
    assert keys.key_for(scope(x_org_id="acme", x_forwarded_for=EDGE)) == "ip:198.51.100.7"


def test_org_ids_with_unsafe_characters_or_too_long_are_hashed_to_a_bounded_key() -> None:
    keys = ClientKeys(trusted_proxies=(EDGE,))
    odd = keys.key_for(scope(EDGE, x_org_id="acme corp/€"))
    long = keys.key_for(scope(EDGE, x_org_id="a" * 500))
    assert odd.startswith("org#") and long.startswith("org#")
    assert len(odd) == len(long) == 36
    assert odd != long
    assert keys.key_for(scope(EDGE, x_org_id="acme corp/€")) == odd  # stable


def test_blank_org_id_falls_back_to_the_ip() -> None:
    assert ClientKeys(trusted_proxies=(EDGE,)).key_for(scope(EDGE, x_org_id="  ")) == "ip:10.0.0.1"


def test_a_verified_caller_is_keyed_on_its_org_else_its_user_whatever_the_headers_say() -> None:
    keys = ClientKeys(trusted_proxies=(EDGE,))
    acme = scope(EDGE, x_org_id="globex") | {CALLER_SCOPE: Caller(id="u-1", org="acme")}
    alone = scope(EDGE, x_org_id="globex") | {CALLER_SCOPE: Caller(id="u-1")}
    odd = scope() | {CALLER_SCOPE: Caller(id="ü" * 300)}
    assert keys.key_for(acme) == "org:acme"
    assert keys.key_for(alone) == "user:u-1"
    assert keys.key_for(odd).startswith("user#") and len(keys.key_for(odd)) == 37


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8",))
    assert keys.key_for(scope(x_forwarded_for="203.0.113.9")) == "ip:198.51.100.7"
    assert ClientKeys().key_for(scope("127.0.0.1", x_forwarded_for="203.0.113.9")) == "ip:127.0.0.1"


def test_forwarded_for_from_a_trusted_proxy_gives_the_right_most_untrusted_hop() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8", "192.0.2.1"))
    # The client forged "1.1.1.1"; our proxies appended the real address, then each other.
    forwarded = "1.1.1.1, 203.0.113.9, 10.1.2.3"
    assert keys.key_for(scope("192.0.2.1", x_forwarded_for=forwarded)) == "ip:203.0.113.9"
    # Repeated header fields form one list, in order.
    assert keys.key_for(scope("192.0.2.1", x_forwarded_for=["1.1.1.1", "203.0.113.9, 10.1.2.3"])) == (
        "ip:203.0.113.9")


def test_all_hops_trusted_gives_the_left_most_and_no_header_gives_the_proxy() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.0/8",))
    assert keys.key_for(scope("10.0.0.1", x_forwarded_for="10.9.9.9, 10.0.0.2")) == "ip:10.9.9.9"
    assert keys.key_for(scope("10.0.0.1")) == "ip:10.0.0.1"


def test_a_malformed_hop_stops_at_the_proxy_that_wrote_it() -> None:
    keys = ClientKeys(trusted_proxies=("10.0.0.1",))
    assert keys.key_for(scope("10.0.0.1", x_forwarded_for="203.0.113.9, unknown")) == "ip:10.0.0.1"


def test_hops_with_ports_and_ipv4_mapped_peers_are_normalised() -> None:
    keys = ClientKeys(trusted_proxies=("127.0.0.1",))
    assert keys.key_for(scope("::ffff:127.0.0.1", x_forwarded_for="203.0.113.9:51234")) == "ip:203.0.113.9"
    assert keys.key_for(scope("127.0.0.1", x_forwarded_for="[2001:db8::1]:443")) == "ip:2001:db8::/64"


def test_ipv6_clients_are_counted_per_64_prefix() -> None:
    keys = ClientKeys()
    assert keys.key_for(scope("2001:db8:1:2:aaaa::1")) == keys.key_for(scope("2001:db8:1:2:bbbb::9"))
    assert keys.key_for(scope("2001:db8:1:2::1")) != keys.key_for(scope("2001:db8:1:3::1"))


def test_no_peer_address_is_one_unknown_bucket() -> None:
    assert ClientKeys(trusted_proxies=("127.0.0.1",)).key_for(scope(None, x_forwarded_for="1.2.3.4")) == (
        "ip:unknown")


def test_parsed_networks_are_taken_as_they_are() -> None:
    # wiring hands over GatewaySettings.trusted_networks(): TRUSTED_PROXIES is validated there, once.
    keys = ClientKeys(trusted_proxies=GatewaySettings(trusted_proxies=("10.0.0.0/8",)).trusted_networks())
    assert keys.client_ip(scope("10.1.2.3", x_forwarded_for="203.0.113.9")) == "203.0.113.9"
