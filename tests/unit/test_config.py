"""GatewaySettings: typed, read once from the environment over an optional .env file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grompt_gateway.config import GatewaySettings, SettingsError, env_name, read_env_file

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting_with_its_default() -> None:
    example = read_env_file(str(ROOT / ".env.example"))
    names = {env_name(f.name) for f in dataclasses.fields(GatewaySettings)}
    assert set(example) == names
    assert GatewaySettings.from_env(example, env_file=None) == GatewaySettings()


def test_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nRATE_LIMIT_RPS=5\nexport GOBE_PROXY_ALLOW="files, billing/x"\nPORT=4000\n')
    settings = GatewaySettings.from_env({"PORT": "5000"}, env_file=str(env_file))
    assert settings.rate_limit_rps == 5.0
    assert settings.gobe_proxy_allow == ("files", "billing/x")
    assert settings.port == 5000


def test_missing_env_file_is_fine() -> None:
    assert GatewaySettings.from_env({}, env_file="/nonexistent/.env") == GatewaySettings()


@pytest.mark.parametrize(("env", "message"), [
    ({"RATE_LIMIT_RPS": "abc"}, "RATE_LIMIT_RPS has value 'abc'. Not a valid float."),
    ({"PORT": "http"}, "PORT has value 'http'. Not a valid int."),
    ({"GROMPT_DEMO": "maybe"}, "GROMPT_DEMO has value 'maybe'. Not a valid bool."),
    ({"DEFAULT_PROVIDER": "mistral"},
     "DEFAULT_PROVIDER has value 'mistral'. Must be one of openai, anthropic, gemini."),
    ({"HTTP_ADAPTER": "fastify"}, "HTTP_ADAPTER has value 'fastify'. Must be one of django."),
    ({"OPENAI_BASE_URL": "ftp://x"}, "OPENAI_BASE_URL has value 'ftp://x'."),
    ({"GOBE_BASE_URL": "ftp://gobe"}, "GOBE_BASE_URL has value 'ftp://gobe'. Must be an http:// or https:// URL."),
    ({"GOBE_BASE_URL": "gobe.internal"}, "GOBE_BASE_URL has value 'gobe.internal'."),
    ({"GOBE_BASE_URL": "http://"}, "GOBE_BASE_URL has value 'http://'."),
    ({"CACHE_URL": "memcached://x"}, "CACHE_URL has value 'memcached://x'."),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL has value 'LOUD'."),
    ({"TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, "TRUSTED_PROXIES has value 'proxy.local'. Not a valid IP"),
    ({"MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES has value 0. Must be positive."),
    ({"CORS_ALLOWED_ORIGINS": "https://a.example/"}, "CORS_ALLOWED_ORIGINS has value 'https://a.example/'."),
])
def test_a_bad_value_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        GatewaySettings.from_env(env, env_file=None)
    assert message in str(caught.value)


def test_keys_never_appear_in_repr() -> None:
    settings = GatewaySettings(openai_api_key="sk-secret-123", gemini_api_key="AIza-secret")
    assert "secret" not in repr(settings)


def test_fallback_providers_are_read_in_order() -> None:
    settings = GatewaySettings.from_env({"FALLBACK_PROVIDERS": " anthropic, openai "}, env_file=None)
    assert settings.fallback_providers == ("anthropic", "openai")
    assert GatewaySettings().fallback_providers == ()


@pytest.mark.parametrize(("env", "message"), [
    ({"FALLBACK_PROVIDERS": "openai,mistral"},
     "FALLBACK_PROVIDERS has value 'openai,mistral'. Unknown provider 'mistral'; expected openai, anthropic, gemini."),
    ({"FALLBACK_PROVIDERS": "openai,anthropic,openai"},
     "FALLBACK_PROVIDERS has value 'openai,anthropic,openai'. Lists a provider twice."),
    ({"FALLBACK_PROVIDERS": "openai,gemini"},
     "FALLBACK_PROVIDERS has value 'openai,gemini'. Lists DEFAULT_PROVIDER (gemini), which is always tried first."),
    ({"FALLBACK_PROVIDERS": "gemini", "DEFAULT_PROVIDER": "openai", "DEFAULT_MODEL": "gpt-5.4-mini"}, None),
])
def test_fallback_providers_are_checked_at_start_up(env: dict[str, str], message: str | None) -> None:
    if message is None:
        assert GatewaySettings.from_env(env, env_file=None).fallback_providers == ("gemini",)
        return
    with pytest.raises(SettingsError) as caught:
        GatewaySettings.from_env(env, env_file=None)
    assert str(caught.value) == message


SECRET_32 = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("env", "message"), [
    ({"AUTH_JWKS_URL": "https://gobe.example/jwks.json", "AUTH_JWT_SECRET": SECRET_32},
     "AUTH_JWT_SECRET has value '…'. Set only one of AUTH_JWKS_URL, AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY."),
    ({"AUTH_REQUIRED": "true"}, "AUTH_REQUIRED has value True. Needs one of AUTH_JWKS_URL"),
    ({"AUTH_ISSUER": "https://gobe.example"}, "AUTH_ISSUER has value 'https://gobe.example'. Needs one of"),
    ({"AUTH_JWKS_URL": "file:///etc/jwks.json"}, "AUTH_JWKS_URL has value 'file:///etc/jwks.json'. Must be an http"),
    ({"AUTH_JWT_SECRET": "short"}, "AUTH_JWT_SECRET has value '…'. Must be at least 32 bytes (HS256)."),
    ({"AUTH_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\\nnope\\n-----END PUBLIC KEY-----"},
     "AUTH_JWT_PUBLIC_KEY has value '…'. Not a PEM public key"),
    ({"AUTH_JWT_SECRET": SECRET_32, "AUTH_ORG_CLAIM": " "}, "AUTH_ORG_CLAIM has value ''. Must name a claim."),
    ({"AUTH_REQUIRED": "sometimes"}, "AUTH_REQUIRED has value 'sometimes'. Not a valid bool."),
])
def test_auth_settings_are_checked_at_start_up_and_secrets_never_echoed(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        GatewaySettings.from_env(env, env_file=None)
    assert message in str(caught.value)
    assert SECRET_32 not in str(caught.value)


def test_auth_secrets_never_appear_in_repr() -> None:
    settings = GatewaySettings(auth_jwt_secret=SECRET_32)
    assert SECRET_32 not in repr(settings)
