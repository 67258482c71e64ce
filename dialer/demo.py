"""`dialer demo`: a real run through the sandbox with everything embedded, ending in a table."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dialer.apikeys import create_api_key
from dialer.config import Settings, get_settings
from dialer.db import make_async_engine, make_sessionmaker, session_scope
from dialer.migrations import upgrade_to_head
from dialer.redis_embedded import EmbeddedRedis
from dialer.sandbox import SandboxConfig
from dialer.serve import free_ports, running_services
from dialer.templating import render_file
from dialer.vocabulary import FINAL_NOTIFICATION

__all__ = [
    "DemoStack",
    "demo_campaign_csv",
    "demo_settings",
    "demo_stack",
    "make_demo_key",
    "run_demo",
    "run_demo_campaign",
]

FINAL = {status.value for status in FINAL_NOTIFICATION}
_NAMES = ("Aiko", "Kenji", "Yuki", "Haruto")


def demo_numbers(count: int) -> list[str]:
    # Japanese mobile numbers; the sandbox decides each outcome by the last digit.
    return [f"+81901234{5600 + i:04d}" for i in range(count)]


def demo_settings(workdir: Path, web_port: int, sandbox_port: int) -> Settings:
    return get_settings().model_copy(
        update={
            "env": "development",
            "database_url": f"sqlite:///{workdir / 'demo.db'}",
            "public_url": f"http://127.0.0.1:{web_port}",
            "xoxzo_api_url": f"http://127.0.0.1:{sandbox_port}",
            "voxology_api_url": f"http://127.0.0.1:{sandbox_port}/v1",
            "voxology_api_key": SecretStr(SandboxConfig.voxology_api_key),
            "secret_key": SecretStr(secrets.token_urlsafe(32)),
            "poll_interval_s": 2.0,
            "ambiguous_after_s": 30.0,
            "reconcile_deadline_s": 120.0,
        }
    )


async def make_demo_key(settings: Settings) -> str:
    engine = make_async_engine(settings.async_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await create_api_key(session, "demo")
    finally:
        await engine.dispose()


# The demo's campaign: a reminder in Japanese to a CSV of people, two rows of which are bad.
CAMPAIGN_TEMPLATE = "{{ 氏名 }}様、{{ 日時 }}のご予約のお知らせです。"
_SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]


def demo_campaign_csv(count: int) -> bytes:
    lines = ["phone,氏名,日時"]
    for i in range(count):
        day = 3 + i % 5
        lines.append(f"090-2345-{6000 + i:04d},{_SURNAMES[i % 10]} {i + 1},12月{day}日 10:00")
    lines += ["not-a-number,誤り,12月3日", "090-2345-6000,重複,12月3日"]
    return ("\n".join(lines) + "\n").encode()


async def run_demo_campaign(
    console: Console, api: httpx.AsyncClient, count: int, timeout_s: float
) -> dict[str, Any]:
    """A CSV campaign, started and followed to its end."""
    body = {
        "name": "デモ: 予約リマインダー",
        "channel": "tts",
        "from": "+81312345678",
        "template": CAMPAIGN_TEMPLATE,
        "lang": "ja",
        "schedule": {"window_start": "00:00", "window_end": "23:59"},
        "policy": {"max_attempts": 2, "retry": {"no_answer": {"delay_s": 2}}},
    }
    created = (await api.post("/v1/campaigns", json=body)).raise_for_status().json()
    upload = await api.post(
        f"/v1/campaigns/{created['id']}/contacts",
        files={"file": ("予約.csv", demo_campaign_csv(count), "text/csv")},
    )
    report = upload.raise_for_status().json()
    console.print(
        f"campaign {created['id']}: {report['rows']} rows uploaded, {report['imported']} "
        f"imported, {report['invalid']} invalid, {report['duplicate']} duplicate"
    )
    (await api.post(f"/v1/campaigns/{created['id']}/start")).raise_for_status()
    deadline = time.monotonic() + timeout_s
    found: dict[str, Any] = created
    while time.monotonic() < deadline:
        found = (await api.get(f"/v1/campaigns/{created['id']}")).json()
        if found["status"] == "completed":
            break
        await asyncio.sleep(0.5)
    return found


@dataclass(frozen=True)
class DemoStack:
    settings: Settings
    key: str
    web_url: str
    # The API, with the key.
    api: httpx.AsyncClient


@asynccontextmanager
async def demo_stack(time_scale: float) -> AsyncIterator[DemoStack]:
    """A new SQLite database in a temporary folder, embedded Redis, the sandbox, the web
    process and a worker, all in this process; and an API key."""
    workdir = Path(tempfile.mkdtemp(prefix="dialer-demo-"))
    web_port, sandbox_port = free_ports(2)
    settings = demo_settings(workdir, web_port, sandbox_port)
    upgrade_to_head(settings.database_url)
    key = await make_demo_key(settings)
    sandbox = SandboxConfig(
        sid=settings.xoxzo_sid,
        auth_token=settings.xoxzo_auth_token.get_secret_value(),
        time_scale=time_scale,
    )
    with EmbeddedRedis() as redis:
        async with (
            running_services(
                settings,
                redis.url,
                host="127.0.0.1",
                port=web_port,
                workers=1,
                sandbox=sandbox,
                sandbox_port=sandbox_port,
            ) as services,
            httpx.AsyncClient(
                base_url=services.web_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as api,
        ):
            yield DemoStack(settings, key, services.web_url, api)


async def _demo(
    console: Console, count: int, time_scale: float, timeout_s: float, keep: bool
) -> int:
    async with demo_stack(time_scale) as stack:
        settings, api = stack.settings, stack.api
        console.print(
            f"[bold]dialer demo[/]: database {settings.database_url.removeprefix('sqlite:///')}, "
            f"sandbox at {settings.xoxzo_api_url}, API at {settings.public_url}"
        )
        console_line = (
            f"[bold]console[/]: {settings.public_url}/ (sign in with the key {stack.key})"
        )
        console.print(console_line)
        ids = []
        for idempotency, body in demo_requests(count):
            answer = await api.post(
                "/v1/notifications", json=body, headers={"Idempotency-Key": idempotency}
            )
            answer.raise_for_status()
            ids.append(answer.json()["id"])
        results = await _follow(console, api, ids, timeout_s)
        campaign = await run_demo_campaign(console, api, count, timeout_s)
        if keep:
            _print_table(console, results)
            console.print(console_line)
            console.print("[bold]--keep[/]: the services run until Ctrl-C")
            await _wait_for_interrupt()
    if not keep:
        _print_table(console, results)
    tts = [results[i] for i in ids[:count]]  # demo_requests() puts the Xoxzo TTS calls first
    final_tts = sum(1 for r in tts if r["status"] in FINAL)
    final = sum(1 for r in results.values() if r["status"] in FINAL)
    channels = sorted({f"{r['provider']} {r['channel']}" for r in results.values()})
    console.print(
        f"[bold]{final_tts} of {len(tts)} TTS notifications final; "
        f"{final} of {len(ids)} notifications final in all channels[/] ({', '.join(channels)})"
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(campaign["counts"].items()))
    console.print(f"[bold]campaign {campaign['id']} {campaign['status']}[/]: {counts}")
    return 0 if final == len(ids) and campaign["status"] == "completed" else 1


async def _wait_for_interrupt() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def demo_requests(count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` Xoxzo TTS calls, then at least one message of every other channel."""
    policy = {"max_attempts": 2, "retry_delay_s": 1, "retry_on": ["no_answer", "busy"]}
    requests = [
        (
            f"demo-tts-{i}",
            {
                "channel": "tts",
                "to": number,
                "from": "+81312345678",
                "text": render_file(
                    "tts/demo.txt.j2", {"number": i + 1, "total": count, "name": _NAMES[i % 4]}
                ),
                "lang": "en",
                "policy": policy,
            },
        )
        for i, number in enumerate(demo_numbers(count))
    ]
    requests.append(
        (
            "demo-playback",
            {
                "channel": "playback",
                "to": "+819087654321",
                "from": "+81312345678",
                "recording_url": "http://example.com/dialer-demo.mp3",
                "policy": policy,
            },
        )
    )
    for last_digit in "09":  # the sandbox delivers one and fails the other
        requests.append(
            (
                f"demo-sms-{last_digit}",
                {
                    "channel": "sms",
                    "to": f"+81807654321{last_digit}",
                    "from": "DIALER",
                    "text": "dialer demo: your appointment is tomorrow at 10:00.",
                },
            )
        )
    requests.append(
        (
            "demo-voxology-sms",
            {
                "channel": "sms",
                "provider": "voxology",
                "to": "+14155550123",
                "from": "+14155550100",
                "text": "dialer demo: a text through Voxology.",
            },
        )
    )
    requests.append(
        (
            "demo-conference",
            {
                "channel": "conference",
                "to": "+819011110001",
                "participants": ["+819011110002", "+819011110003"],
                "from": "+81312345678",
                "lang": "en",
            },
        )
    )
    requests.append(
        (
            "demo-voxology-conference",
            {
                "channel": "conference",
                "provider": "voxology",
                "to": "+14155550131",
                "participants": ["+14155550132"],
                "from": "+14155550100",
            },
        )
    )
    # The sandbox's Voxology platform: ...13 presses 1, ...93 presses 9, ...25 is a voicemail.
    for to in ("+14155550113", "+14155550193", "+14155550125"):
        requests.append(
            (
                f"demo-voice-flow-{to[-2:]}",
                {
                    "channel": "voice_flow",
                    "provider": "voxology",
                    "to": to,
                    "from": "+14155550100",
                    "text": "dialer demo: your appointment is tomorrow at ten.",
                },
            )
        )
    requests.append(
        (
            "demo-voxology-tts",
            {
                "channel": "tts",
                "provider": "voxology",
                "to": "+14155550104",
                "from": "+14155550100",
                "text": "dialer demo: a spoken message through Voxology.",
            },
        )
    )
    return requests


async def _follow(
    console: Console, api: httpx.AsyncClient, ids: list[int], timeout_s: float
) -> dict[int, dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout_s
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[states]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("calling", total=len(ids), states="")
        while time.monotonic() < deadline:
            for nid in ids:
                if results.get(nid, {}).get("status") not in FINAL:
                    results[nid] = (await api.get(f"/v1/notifications/{nid}")).json()
            states = Counter(r["status"] for r in results.values())
            done = sum(n for s, n in states.items() if s in FINAL)
            progress.update(
                task,
                completed=done,
                states=", ".join(f"{s} {n}" for s, n in sorted(states.items())),
            )
            pending = any(a["cost_pending"] for r in results.values() for a in r["attempts"])
            if done == len(ids) and not pending:
                break
            if done == len(ids):  # Voxology's charges come from its logs a little later
                progress.update(task, states="reading Voxology's charges")
                results = {nid: (await api.get(f"/v1/notifications/{nid}")).json() for nid in ids}
            await asyncio.sleep(0.3)
    return results


def _print_table(console: Console, results: dict[int, dict[str, Any]]) -> None:
    table = Table(title="Outcomes")
    columns = (
        "id",
        "provider",
        "channel",
        "to",
        "status",
        "outcome",
        "attempts",
        "provider status",
        "answer",
        "cost",
    )
    for column in columns:
        table.add_column(column)
    for nid, r in sorted(results.items()):
        attempts = r["attempts"]
        table.add_row(
            str(nid),
            r["provider"],
            r["channel"],
            r["to"] + (f" +{len(r['participants'])}" if r["participants"] else ""),
            r["status"],
            r["outcome"] or "-",
            str(len(attempts)),
            " / ".join(a["provider_status"] or "-" for a in attempts),
            " / ".join(a["answer"] for a in attempts if a["answer"]) or "-",
            _cost(attempts),
        )
    console.print(table)
    outcomes = Counter(f"{r['status']}/{r['outcome']}" for r in results.values())
    console.print("  ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))


def _cost(attempts: list[dict[str, Any]]) -> str:
    if any(a["cost_pending"] for a in attempts):
        return "pending"
    costs = [a["cost"] for a in attempts if a["cost"] is not None]
    return f"{sum(costs):g}" if costs else "-"


def run_demo(
    count: int = 20, time_scale: float = 0.05, timeout_s: float = 120.0, keep: bool = False
) -> int:
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Into a file or a pipe: the whole table, not one cut to rich's default 80 columns.
        console = Console(width=160)
    return asyncio.run(_demo(console, count, time_scale, timeout_s, keep))
