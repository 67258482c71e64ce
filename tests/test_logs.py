"""Logs people read: one line per thing that matters, nothing per idle tick, and the same as
JSON objects with stable keys."""

from __future__ import annotations

import asyncio
import json
import logging

from dialer.config import Settings
from dialer.logs import JsonLines, fields, settings_summary
from tests.stack import Stack


def test_a_json_line_has_the_stable_keys_then_the_events_fields() -> None:
    record = logging.LogRecord("dialer.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.fields = fields(attempt_id=7, outcome="answered")["fields"]
    line = json.loads(JsonLines().format(record))
    assert list(line)[:4] == ["ts", "level", "logger", "message"]
    assert (line["level"], line["logger"], line["message"]) == ("info", "dialer.x", "hello you")
    assert (line["attempt_id"], line["outcome"]) == (7, "answered")


def test_the_start_summary_holds_no_secret() -> None:
    settings = Settings.model_validate(
        {
            "database_url": "postgresql://dialer:s3cret-pw@db:5432/dialer",
            "redis_url": "redis://:r3dis-pw@cache:6379/0",
            "xoxzo_auth_token": "x0x-token-value",
        }
    )
    shown = json.dumps(settings_summary(settings))
    assert "s3cret-pw" not in shown and "r3dis-pw" not in shown and "x0x-token" not in shown
    assert "db:5432/dialer" in shown and "cache:6379" in shown


async def test_a_worker_says_each_attempts_moves_and_nothing_while_idle(stack: Stack) -> None:
    worker = stack.start_worker(DIALER_LOG_FORMAT="json")
    await asyncio.to_thread(worker.wait_log, "worker ready")
    idle_from = len(worker.log.read_text().splitlines())
    await asyncio.sleep(3)  # three hopper ticks, and the other crons
    assert worker.log.read_text().splitlines()[idle_from:] == []
    sent = await stack.notify("+819012345670")
    await stack.wait_final(sent["id"])
    await asyncio.sleep(0.5)
    lines = [json.loads(line) for line in worker.log.read_text().splitlines()]
    assert all(list(line)[:4] == ["ts", "level", "logger", "message"] for line in lines)
    moves = [line for line in lines if line.get("notification_id") == sent["id"]]
    # The worker claims and places the call (unless its callback outran the answer to the
    # POST); the callback, at the web process, ends it.
    assert [m["status"] for m in moves][:1] == ["dialing"] and moves[0]["provider"] == "xoxzo"
    assert all(m["provider_id"] for m in moves[1:])
    attempt_id = moves[0]["attempt_id"]
    web_log = (stack.logdir / "web.log").read_text()
    ended = f"notification {sent['id']} attempt {attempt_id} (xoxzo "
    assert any(
        ended in line and "in_progress -> finished, answered" in line
        for line in web_log.splitlines()
    ), web_log[-2000:]
    # The sandbox says where it is, and each request it served.
    sandbox_log = (stack.logdir / "sandbox.log").read_text()
    assert "sandbox at http://127.0.0.1:" in sandbox_log
    assert '"POST /voice/simple/playbacks/ HTTP/1.1" 201' in sandbox_log, sandbox_log[-2000:]
