"""/metrics and /readyz: what each process counts, and whether the web process can serve."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from prometheus_client.parser import text_string_to_metric_families

from dialer.serve import free_ports, running_worker
from tests.stack import Stack
from tests.support import Harness


def _attempts(text: str) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "dialer_attempts_total":
                labels = sample.labels
                found[(labels["provider"], labels["channel"], labels["outcome"])] += int(
                    sample.value
                )
    return found


async def test_metrics_count_attempts_and_show_what_waits(harness: Harness) -> None:
    before = _attempts((await harness.api.get("/metrics")).text)
    sent = await harness.notify("+819012345670")
    async with running_worker(harness.settings, harness.redis_url):
        await harness.wait_final(sent["id"])
        await asyncio.sleep(0.3)
    answer = await harness.api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    after = _attempts(answer.text)
    assert after - before == Counter({("xoxzo", "tts", "answered"): 1})
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert {"dialer_notifications_due", "dialer_webhook_events", "dialer_callbacks"} <= names
    assert {"dialer_provider_request_seconds", "dialer_limiter_wait_seconds"} <= names


async def test_readyz_says_ready_when_the_database_is_at_head_and_redis_answers(
    harness: Harness,
) -> None:
    answer = await harness.api.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_a_scrape_of_every_process_adds_up_to_the_database(stack: Stack) -> None:
    ports = free_ports(2)
    workers = [stack.start_worker(DIALER_METRICS_PORT=str(port)) for port in ports]
    for worker in workers:
        await asyncio.to_thread(worker.wait_log, "worker ready")
    # Answered, not answered (digit 7), busy (digit 8): callbacks end some, workers others.
    numbers = [f"+81901234567{d}" for d in (0, 1, 2, 7, 8, 3)]
    sent = [await stack.notify(n) for n in numbers]
    finals = [await stack.wait_final(s["id"]) for s in sent]
    await asyncio.sleep(0.5)
    in_database: Counter[tuple[str, str, str]] = Counter()
    for notification in finals:
        for attempt in notification["attempts"]:
            outcome = attempt["outcome"] or attempt["status"]
            in_database[(attempt["provider"], "tts", outcome)] += 1
    scraped: Counter[tuple[str, str, str]] = Counter()
    async with httpx.AsyncClient() as client:
        scraped += _attempts((await stack.api.get("/metrics")).text)
        for port in ports:
            scraped += _attempts((await client.get(f"http://127.0.0.1:{port}/metrics")).text)
    assert scraped == in_database
