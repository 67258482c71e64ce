from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialer.config import Settings, SettingsRefused, get_settings, to_driver_url
from dialer.scheduling.policies import RetryPolicy


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


STRONG = "Zq3-vN8_kP2xR7tY5wB1mC4hJ6gF9dS0aL"


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_ENV", "production")
    monkeypatch.setenv("DIALER_SECRET_KEY", STRONG)
    monkeypatch.setenv("XOXZO_SID", "AC123")
    monkeypatch.setenv("XOXZO_AUTH_TOKEN", "real-token")
    monkeypatch.setenv("DIALER_PUBLIC_URL", "https://dialer.example.org")
    for name in ("XOXZO_API_URL", "VOXOLOGY_API_URL", "VOXOLOGY_API_KEY", "VOXOLOGY_BASIC_AUTH"):
        monkeypatch.delenv(name, raising=False)
    for name in ("DIALER_WEBHOOK_URL", "DIALER_WEBHOOK_SECRET", "DIALER_ALLOW_HTTP_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    assert Settings().env == "production"


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("DIALER_SECRET_KEY", "short", "at least 32 characters"),
        ("DIALER_SECRET_KEY", "x" * 40, "at least 12 different"),
        ("DIALER_SECRET_KEY", "ab" * 30, "at least 12 different"),
        ("VOXOLOGY_API_KEY", "sandbox-voxology-key", "placeholder secrets"),
        ("VOXOLOGY_BASIC_AUTH", "sandbox-account:sandbox-secret", "placeholder secrets"),
        ("DIALER_PUBLIC_URL", "http://dialer.example.org", "https is required"),
        ("XOXZO_API_URL", "http://127.0.0.1:8765", "https is required"),
        ("VOXOLOGY_API_URL", "http://127.0.0.1:8765/v1", "https is required"),
        ("DIALER_VOXOLOGY_FAILOVER_URL", "http://backup.example.org/v1/flows", "https is required"),
    ],
)
def test_production_refuses_weak_or_sandbox_settings(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, words: str
) -> None:
    _production(monkeypatch)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=words):
        Settings()


def test_production_refuses_a_short_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.setenv("DIALER_WEBHOOK_URL", "https://crm.example.org/hooks")
    monkeypatch.setenv("DIALER_WEBHOOK_SECRET", "k")
    with pytest.raises(ValidationError, match="DIALER_WEBHOOK_SECRET must be at least 32"):
        Settings()


def test_http_behind_a_tls_proxy_is_allowed_when_said(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.setenv("DIALER_PUBLIC_URL", "http://dialer.internal:8000")
    monkeypatch.setenv("DIALER_ALLOW_HTTP_PUBLIC_URL", "true")
    assert Settings().public_url == "http://dialer.internal:8000"


def test_a_refused_start_up_never_shows_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    secret = "hunter2-webhook-secret"
    monkeypatch.setenv("DIALER_WEBHOOK_URL", "https://crm.example.org/hooks")
    monkeypatch.setenv("DIALER_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("XOXZO_AUTH_TOKEN", "tok-that-is-secret")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsRefused) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    text = str(refused.value) + repr(refused.value)
    assert "DIALER_WEBHOOK_SECRET" in text
    assert secret not in text and "tok-that-is-secret" not in text and STRONG not in text
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


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


@pytest.mark.parametrize(
    "credit",
    [
        {"voxology": {"minimum": -1}},
        {"voxology": {"per_attempt": {"fax": 0.1}}},
        {"voxology": {"per_attempt": {"sms": -0.01}}},
        {"xoxzo": {"maximum": 5}},
    ],
)
def test_credit_rules_out_of_bounds_are_refused(credit: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(credit=credit)


def test_credit_rules_override_only_what_they_name() -> None:
    settings = Settings(credit={"voxology": {"per_attempt": {"sms": 0.0075}}})
    terms = settings.credit_for("voxology")
    assert (terms.unit, terms.minimum) == ("USD", 1.0)
    assert terms.per_attempt["sms"] == 0.0075 and terms.per_attempt["tts"] == 0.05
    assert settings.credit_for("xoxzo").per_attempt["sms"] == 10.0


@pytest.mark.parametrize(("field", "value"), [("ring_timeout_s", 5), ("max_call_time_s", 10**6)])
def test_ring_time_and_call_length_are_bounded(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        RetryPolicy.model_validate({field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metrics_port", 0),
        ("metrics_port", 70000),
        ("worker_factory", "jobs.worker"),
        ("worker_factory", "jobs.worker:make worker; rm"),
    ],
)
def test_malformed_metrics_port_and_worker_factory_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({field: value})


def test_an_unknown_log_format_is_refused() -> None:
    from click.testing import CliRunner

    from dialer.cli import main

    result = CliRunner().invoke(main, ["--log-format", "xml", "db", "--help"])
    assert result.exit_code == 2 and "'xml' is not one of 'text', 'json'" in result.output


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dial_batch", 0),
        ("dial_batch", 1001),
        ("dial_batch", "many"),
        ("write_group", 0),
        ("write_group", 257),
        ("write_group", "all"),
    ],
)
def test_malformed_dial_batch_and_write_group_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings.model_validate({field: value})


def test_a_job_must_outlast_its_slot_wait_and_its_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALER_JOB_TIMEOUT_S", "5")
    monkeypatch.setenv("DIALER_PROVIDER_TIMEOUT_S", "2.5")
    with pytest.raises(ValidationError, match=r"DIALER_JOB_TIMEOUT_S \(5\) must be at least"):
        Settings()
    monkeypatch.setenv("DIALER_JOB_TIMEOUT_S", "6")
    assert Settings().job_timeout_s == 6
