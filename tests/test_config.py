from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialer.config import Settings, to_driver_url


def test_defaults_are_a_local_development_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DIALER_ENV", "DIALER_DATABASE_URL", "DIALER_REDIS_URL", "XOXZO_API_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.xoxzo_api_url == "https://api.xoxzo.com"
    assert settings.voxology_api_url == "https://api.voxolo.gy/v1"


def test_reads_provider_variables_without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XOXZO_SID", "AC123")
    monkeypatch.setenv("XOXZO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("XOXZO_API_URL", "http://127.0.0.1:8765")
    monkeypatch.setenv("DIALER_PUBLIC_URL", "https://dialer.example.org")
    settings = Settings()
    assert settings.xoxzo_sid == "AC123"
    assert settings.xoxzo_auth_token.get_secret_value() == "tok"
    assert settings.xoxzo_api_url == "http://127.0.0.1:8765"
    assert settings.public_url == "https://dialer.example.org"


def test_production_refuses_placeholder_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_ENV", "production")
    for name in ("DIALER_SECRET_KEY", "XOXZO_SID", "XOXZO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="DIALER_SECRET_KEY, XOXZO_SID, XOXZO_AUTH_TOKEN"):
        Settings()


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_ENV", "production")
    monkeypatch.setenv("DIALER_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("XOXZO_SID", "AC123")
    monkeypatch.setenv("XOXZO_AUTH_TOKEN", "real-token")
    assert Settings().env == "production"
    monkeypatch.setenv("DIALER_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()


@pytest.mark.parametrize(
    ("url", "asynchronous", "expected"),
    [
        ("sqlite:///dialer.db", True, "sqlite+aiosqlite:///dialer.db"),
        ("sqlite:///dialer.db", False, "sqlite:///dialer.db"),
        ("postgresql://u@h/db", True, "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", False, "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", True, "postgresql+psycopg://u@h/db"),
    ],
)
def test_driver_urls(url: str, asynchronous: bool, expected: str) -> None:
    assert to_driver_url(url, asynchronous=asynchronous) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        to_driver_url("mysql://u@h/db", asynchronous=True)
