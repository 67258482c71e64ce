"""The `dialer` command as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dialer.vocabulary import FINAL_NOTIFICATION


def _dialer(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_apikey_create_prints_the_key_alone_and_sets_up_the_embedded_database(
    tmp_path: Path,
) -> None:
    env = {"DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    first = _dialer("apikey", "create", "--name", "ci", cwd=tmp_path, env=env)
    second = _dialer("apikey", "create", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    key = first.stdout
    assert key.endswith("\n") and key.count("\n") == 1
    assert key.startswith("dk_") and len(key.strip()) > 40
    assert second.stdout != first.stdout


def test_a_revoked_key_is_listed_as_revoked_and_no_longer_opens_the_api(tmp_path: Path) -> None:
    env = {"DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    key = _dialer("apikey", "create", "--name", "crm", cwd=tmp_path, env=env).stdout.strip()
    prefix = key.split("_")[1]
    viewer = _dialer(
        "apikey", "create", "--name", "wall", "--scope", "viewer", cwd=tmp_path, env=env
    )
    listed = _dialer("apikey", "list", cwd=tmp_path, env=env)
    assert f"{prefix}  crm  admin  " in listed.stdout and "revoked: -" in listed.stdout
    assert f"{viewer.stdout.split('_')[1]}  wall  viewer  " in listed.stdout
    unknown = _dialer("apikey", "create", "--scope", "root", cwd=tmp_path, env=env)
    assert unknown.returncode == 2 and "'root' is not one of 'admin', 'viewer'" in unknown.stderr
    assert key not in listed.stdout
    assert _dialer("apikey", "revoke", prefix, cwd=tmp_path, env=env).returncode == 0
    assert "revoked: 20" in _dialer("apikey", "list", cwd=tmp_path, env=env).stdout
    missing = _dialer("apikey", "revoke", "nosuchprefix", cwd=tmp_path, env=env)
    assert missing.returncode != 0 and "no API key with prefix" in missing.stderr


def test_production_with_placeholder_secrets_refuses_to_start(tmp_path: Path) -> None:
    env = {
        "DIALER_ENV": "production",
        "DIALER_SECRET_KEY": "change-me",
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }
    result = _dialer("apikey", "create", cwd=tmp_path, env=env)
    assert result.returncode != 0
    assert "placeholder secrets are refused in production" in result.stderr


def test_a_busy_port_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        for command in ("up", "web"):
            result = _dialer(command, "--port", port, cwd=tmp_path)
            assert result.returncode == 1
            assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
            assert "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1


def test_web_and_worker_need_a_redis_url(tmp_path: Path) -> None:
    env = {"DIALER_REDIS_URL": ""}
    for command in ("web", "worker"):
        result = _dialer(command, cwd=tmp_path, env=env)
        assert result.returncode != 0
        assert "DIALER_REDIS_URL is not set" in result.stderr


def test_demo_runs_a_campaign_through_the_sandbox_to_the_end(tmp_path: Path) -> None:
    result = _dialer("demo", "--count", "10", cwd=tmp_path, env={"COLUMNS": "120"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 of 10 TTS notifications final; 20 of 20 notifications final in all" in (
        result.stdout
    )
    finals = {status.value for status in FINAL_NOTIFICATION}
    # One line per notification starts with its id; long cells wrap onto lines without one.
    rows = [line for line in result.stdout.splitlines() if re.match(r"│ \d+ ", line)]
    assert len(rows) == 20
    assert sum(" voxology " in row for row in rows) == 6
    assert all(any(f" {s} " in row for s in finals) for row in rows)
    for channel in ("tts", "playback", "sms", "conference", "voice_flow"):
        assert any(f" {channel} " in row for row in rows), channel
    assert any(" confirmed " in row for row in rows)
    assert any(" opted_out " in row for row in rows)
    assert re.search(r"console: http://127\.0\.0\.1:\d+/ \(sign in with the key dk_", result.stdout)
    assert "12 rows uploaded, 10 imported, 1 invalid, 1 duplicate" in result.stdout
    assert re.search(r"campaign 1 completed: delivered \d+, failed \d+", result.stdout)


def test_demo_keep_leaves_the_console_up_until_interrupted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "dialer", "demo", "--count", "2", "--keep"]
    with subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ) as process:
        try:
            assert process.stdout is not None
            seen = []
            for line in process.stdout:
                seen.append(line)
                if "--keep" in line:
                    break
            text = "".join(seen)
            found = re.search(r"console: (http://[\d.:]+)/ \(sign in with the key (dk_\S+)\)", text)
            assert found, text
            login = httpx.get(f"{found[1]}/login", timeout=10)
            assert login.status_code == 200 and 'name="api_key"' in login.text
            key = {"Authorization": f"Bearer {found[2]}"}
            campaigns = httpx.get(f"{found[1]}/v1/campaigns", headers=key, timeout=10).json()
            assert campaigns[0]["status"] == "completed"
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
            assert process.returncode == 0
        finally:
            if process.poll() is None:
                process.kill()


REPO = Path(__file__).resolve().parents[2]


def _procfile() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_procfile_release_and_worker_lines_run_as_written(tmp_path: Path, redis_url: str) -> None:
    procfile = _procfile()
    assert set(procfile) == {"release", "web", "worker"}
    env = {
        **os.environ,
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'procfile.db'}",
        "DIALER_REDIS_URL": redis_url,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    release = subprocess.run(
        procfile["release"],
        shell=True,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert release.returncode == 0, release.stderr
    assert "Running upgrade  -> 0001" in release.stderr
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            procfile["worker"].split(), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            # The worker's every function, by name: `arq jobs.worker.WorkerSettings` found them.
            functions = "dial_notification, dial_notifications, check_attempt, cron:hopper_tick"
            while functions not in log.read_text():
                assert worker.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            worker.terminate()
            assert worker.wait(timeout=30) == 0, log.read_text()


def test_worker_burst_drains_the_queue_and_exits(tmp_path: Path, redis_url: str) -> None:
    env = {
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'burst.db'}",
        "DIALER_REDIS_URL": redis_url,
    }
    result = _dialer("worker", "--burst", cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


async def test_din_commands_search_subscribe_set_list_and_unsubscribe(tmp_path: Path) -> None:
    import asyncio

    from dialer.sandbox import SandboxConfig, create_sandbox_app
    from dialer.serve import free_port, running_server

    app = create_sandbox_app(SandboxConfig(sid="cli-sid", auth_token="cli-token"))
    port = free_port()
    env = {
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'din.db'}",
        "XOXZO_SID": "cli-sid",
        "XOXZO_AUTH_TOKEN": "cli-token",
        "XOXZO_API_URL": f"http://127.0.0.1:{port}",
        "DIALER_PUBLIC_URL": "http://dialer.example",
    }

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(_dialer, "din", *args, cwd=tmp_path, env=env)

    async with running_server(app, "127.0.0.1", port):
        search = await run("search", "--prefix", "813")
        subscribe = await run("subscribe", "JPascfdrwersdf12", "--action", 'say en "Hi"')
        bad = await run("action", "JPascfdrwersdf12", "say fr nope")
        changed = await run("action", "JPascfdrwersdf12", "playback http://example.com/a.mp3")
        listed = await run("list")
        gone = await run("unsubscribe", "JPascfdrwersdf12")
        unknown = await run("subscribe", "JPnope")
    assert search.returncode == 0, search.stderr
    assert "JPascfdrwersdf12  +81312345678  1900/month  10/minute" in search.stdout
    assert subscribe.returncode == 0, subscribe.stderr
    assert subscribe.stdout.strip() == 'JPascfdrwersdf12  +81312345678  say en "Hi"'
    assert app.state.account.dins["JPascfdrwersdf12"].action_url is None  # unsubscribed
    assert bad.returncode != 0 and "not an action" in bad.stderr
    assert changed.stdout.strip().endswith("playback http://example.com/a.mp3")
    assert "JPascfdrwersdf12" in listed.stdout
    assert gone.stdout.strip() == "unsubscribed JPascfdrwersdf12"
    assert (
        unknown.returncode != 0 and "Xoxzo: Rejected: din_uid: Invalid din_uid." in unknown.stderr
    )
