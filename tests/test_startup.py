"""What a process says as it starts about settings that cannot work."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from dialer.config import Settings
from dialer.serve import free_port, running_server
from dialer.startup import public_url_problem, serving_url, startup_warnings
from tests.support import make_settings, wait_for

SANDBOX = {"xoxzo_api_url": "http://127.0.0.1:8765", "voxology_api_url": "http://127.0.0.1:8765/v1"}


def _settings(**values: object) -> Settings:
    return Settings.model_validate(values)


def test_placeholder_credentials_towards_the_real_provider_are_warned_of() -> None:
    [xoxzo] = startup_warnings(_settings())
    assert "XOXZO_API_URL is Xoxzo itself" in xoxzo
    both = startup_warnings(_settings(voxology_api_key="sandbox-voxology-key"))
    assert len(both) == 2 and "VOXOLOGY_API_URL is Voxology itself" in both[1]


def test_the_sandbox_or_real_credentials_are_not_warned_of() -> None:
    assert startup_warnings(_settings(**SANDBOX, voxology_api_key="sandbox-voxology-key")) == []
    real = _settings(xoxzo_sid="AC1234", xoxzo_auth_token="a-real-token-1234567890")
    assert startup_warnings(real) == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "http://127.0.0.1:8123"), ("0.0.0.0", "http://127.0.0.1:8123")],
)
def test_an_unset_public_url_follows_the_served_port(host: str, expected: str) -> None:
    assert serving_url(_settings(), host, 8123).public_url == expected


def test_a_public_url_that_was_set_is_kept() -> None:
    chosen = _settings(public_url="https://dialer.example.org")
    assert serving_url(chosen, "0.0.0.0", 8123).public_url == "https://dialer.example.org"


async def test_a_public_url_that_reaches_nothing_or_another_server_is_said() -> None:
    closed = _settings(public_url=f"http://127.0.0.1:{free_port()}")
    problem = await public_url_problem(closed, "me", tries=2, pause_s=0.05)
    assert problem is not None and "does not reach this process" in problem
    port = free_port()
    other = FastAPI()

    @other.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async with running_server(other, "127.0.0.1", port):
        elsewhere = _settings(public_url=f"http://127.0.0.1:{port}")
        problem = await public_url_problem(elsewhere, "me", tries=2, pause_s=0.05)
    assert problem is not None and "not the dialer" in problem


def test_up_warns_first_when_the_sandbox_credentials_would_go_to_xoxzo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XOXZO_", "VOXOLOGY_"))}
    env |= {"DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "DIALER_REDIS_URL": ""}
    with subprocess.Popen(
        [sys.executable, "-m", "dialer", "up", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        first = process.stderr.readline()
        process.terminate()
        process.wait(timeout=30)
    assert first.startswith("WARNING: XOXZO_SID / XOXZO_AUTH_TOKEN are the sandbox's placeholders")


def test_production_refuses_the_placeholders_outright(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XOXZO_", "VOXOLOGY_"))}
    env |= {"DIALER_ENV": "production", "DIALER_REDIS_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "up", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "placeholder secrets are refused in production" in done.stderr


async def test_the_web_process_says_when_its_public_url_misses_it(
    database_url: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from dialer.app import create_app

    web_port, nowhere = free_port(), free_port()
    settings = make_settings(database_url, web_port=web_port, sandbox_port=free_port())
    missing = settings.model_copy(update={"public_url": f"http://127.0.0.1:{nowhere}"})
    with caplog.at_level(logging.WARNING, logger="dialer.app"):
        async with running_server(create_app(missing, redis_url), "127.0.0.1", web_port):
            await wait_for(lambda: _said(caplog, "does not reach this process"), 15, "the warning")
        caplog.clear()
        async with running_server(create_app(settings, redis_url), "127.0.0.1", web_port):
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"http://127.0.0.1:{web_port}/healthz")
            assert answer.headers["X-Dialer-Instance"]
            await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if r.name == "dialer.app"]


async def _said(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return any(words in r.getMessage() for r in caplog.records if r.name == "dialer.app")


def test_up_with_the_sandbox_runs_a_campaign_with_nothing_outside(tmp_path: Path) -> None:
    """`up --sandbox`: the console's address first, and calls that reach the sandbox, not
    Xoxzo; no placeholder warning, since nothing goes to the real provider."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XOXZO_", "VOXOLOGY_"))}
    env |= {"DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}", "DIALER_REDIS_URL": ""}
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "dialer", "up", "--sandbox", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            assert lines[1] == (
                f"console at http://127.0.0.1:{port}/: sign in with a key from "
                "`dialer apikey create`\n"
            )
            assert lines[2].startswith(
                "every call and text goes to the sandbox at http://127.0.0.1:"
            )
            key = subprocess.run(
                [sys.executable, "-m", "dialer", "apikey", "create"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.strip()
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ) as api:
                body = {
                    "name": "up",
                    "channel": "tts",
                    "from": "+81312345678",
                    "template": "hi",
                    "schedule": {"window_start": "00:00", "window_end": "23:59"},
                }
                created = api.post("/v1/campaigns", json=body).json()
                contacts = {"contacts": [{"phone": "090-1234-5670"}, {"phone": "090-1234-5671"}]}
                api.post(f"/v1/campaigns/{created['id']}/contacts/json", json=contacts)
                assert api.post(f"/v1/campaigns/{created['id']}/start").status_code == 200
                for _ in range(120):
                    found = api.get(f"/v1/campaigns/{created['id']}").json()
                    if found["status"] == "completed":
                        break
                    time.sleep(0.25)
                assert found["status"] == "completed" and found["counts"] == {"delivered": 2}
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=30)
    assert "WARNING" not in errors
