"""Token budget settings: validated at start-up, overrides in one documented line."""

from __future__ import annotations

import pytest

from grompt_gateway.config import GatewaySettings, SettingsError, parse_budget_overrides


def test_budgets_are_off_by_default() -> None:
    settings = GatewaySettings.from_env({}, env_file=None)
    assert (settings.token_budget_per_minute, settings.token_budget_per_day) == (0, 0)
    assert not settings.budgets_on


def test_overrides_parse_to_per_key_limits() -> None:
    parsed = parse_budget_overrides(" org:acme=200000/5000000, org:blocked=0/0 ,ip:203.0.113.7=off/100")
    assert parsed == {"org:acme": (200_000, 5_000_000), "org:blocked": (0, 0), "ip:203.0.113.7": (None, 100)}
    assert GatewaySettings(token_budget_overrides="org:acme=1/2").budgets_on


@pytest.mark.parametrize(("env", "message"), [
    ({"TOKEN_BUDGET_PER_MINUTE": "-5"}, "TOKEN_BUDGET_PER_MINUTE has value -5. Must not be negative."),
    ({"TOKEN_BUDGET_PER_DAY": "lots"}, "TOKEN_BUDGET_PER_DAY has value 'lots'. Not a valid int."),
    ({"TOKEN_BUDGET_OVERRIDES": "acme=1/2"}, "TOKEN_BUDGET_OVERRIDES has value 'acme=1/2'."),
    ({"TOKEN_BUDGET_OVERRIDES": "org:acme=100"}, "<client key>=<per minute>/<per day>"),
    ({"TOKEN_BUDGET_OVERRIDES": "org:acme=1/2,org:acme=3/4"}, "once per key"),
    ({"TOKEN_BUDGET_OVERRIDES": "org:acme=-1/2"}, "A limit is a whole number of tokens or off"),
])
def test_a_bad_budget_setting_stops_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        GatewaySettings.from_env(env, env_file=None)
    assert message in str(caught.value)
