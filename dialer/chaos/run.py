"""The chaos run: N contacts, W worker processes, the web process and the sandbox. While the
campaign runs, a driver kills a worker with SIGKILL every few seconds (a new one takes its
place), restarts Redis empty, and the sandbox answers call POSTs 5xx, hangs past the timeout
and 429s at random, loses, repeats and delays callbacks; the webhook receiver refuses a share
of deliveries. Once every contact is final the faults stop and the events drain. Then, from
the database and the sandbox's own record: contacts, those final, people dialled more often
than the policy allows, provider calls no attempt knows, webhook events never taken."""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from dialer.bench.imports import bench_campaign, generate_csv
from dialer.bench.stack import ALWAYS
from dialer.chaos.receiver import Receiver
from dialer.contacts.importer import import_contacts
from dialer.db import make_sync_engine
from dialer.migrations import upgrade_to_head
from dialer.models import Attempt, Campaign, Notification, WebhookEndpoint, WebhookEvent
from dialer.processes import DialerProcess, deployment_env
from dialer.redis_embedded import EmbeddedRedis
from dialer.serve import free_ports
from dialer.vocabulary import (
    FINAL_NOTIFICATION,
    AttemptStatus,
    CampaignStatus,
    EventStatus,
    Outcome,
)
from dialer.webhooks.signing import new_secret

__all__ = ["ChaosFigures", "run_chaos"]

_MAX_ATTEMPTS = 2
_POLICY = {
    "max_attempts": _MAX_ATTEMPTS,
    "retry": {outcome: {"delay_s": 1} for outcome in ("no_answer", "busy", "failed")},
}


@dataclass(frozen=True)
class ChaosFigures:
    contacts: int
    final: int
    over_dialled: int
    orphan_provider_calls: int
    lost_webhooks: int
    provider_calls: int
    webhook_events: int
    # Of lost_webhooks: events written but never taken, final contacts with no event written.
    webhooks_not_taken: int
    webhooks_not_written: int
    outcomes: dict[str, int]
    # Attempts whose job died before the fence, taken back and dialled again; and any closed
    # `unknown` although never cleared to leave (there should be none: those are taken back).
    taken_back: int
    unknown_never_sent: int
    all_final_after_s: float | None
    # When nothing had changed (contacts final, events waiting) for the stall limit: the run
    # stopped there.
    stalled_after_s: float | None
    workers: int
    kills: int
    redis_restarts: int
    seconds: float
    faults: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sandbox_faults(rate: float) -> dict[str, float]:
    return {
        "post_5xx_rate": rate,
        "post_timeout_rate": rate,
        "throttle_rate": rate,
        "callback_loss_rate": rate,
        "callback_duplicate_rate": rate,
        "callback_delay_s": 3.0 if rate else 0.0,
    }


def _campaign(engine: Engine, workdir: Path, contacts: int, webhook_url: str) -> int:
    campaign_id = bench_campaign(engine, "chaos", ALWAYS)
    with Session(engine) as session:
        endpoint = WebhookEndpoint(url=webhook_url, secret=new_secret())
        session.add(endpoint)
        session.flush()
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.policy = _POLICY
        campaign.webhook_id = endpoint.id
        campaign.status = CampaignStatus.running
        session.commit()
    csv_path = workdir / "contacts.csv"
    generate_csv(csv_path, contacts)
    with csv_path.open("rb") as stream:
        import_contacts(engine, campaign_id, stream, filename=csv_path.name)
    return campaign_id


def _counts(engine: Engine, campaign_id: int) -> tuple[int, int, int]:
    """Contacts, those final, and webhook events not yet taken."""
    final = [s.value for s in FINAL_NOTIFICATION]
    with Session(engine) as session:
        statuses = session.exec(
            select(Notification.status, func.count())
            .where(col(Notification.campaign_id) == campaign_id)
            .group_by(col(Notification.status))
        ).all()
        pending = session.exec(
            select(func.count()).where(col(WebhookEvent.status) == EventStatus.pending)
        ).one()
    total = sum(n for _, n in statuses)
    done = sum(n for status, n in statuses if str(status) in final)
    return total, done, int(pending)


def _tally(
    engine: Engine, campaign_id: int, calls: list[dict[str, Any]], taken: set[str]
) -> tuple[int, int, int, int, int]:
    """Over-dialled people, orphan provider calls, webhook events never taken and final
    contacts never told, and the events written."""
    with Session(engine) as session:
        known = set(
            session.exec(
                select(Attempt.provider_id)
                .join(Notification, col(Notification.id) == col(Attempt.notification_id))
                .where(
                    col(Notification.campaign_id) == campaign_id,
                    col(Attempt.provider_id).is_not(None),
                )
            ).all()
        )
        final_ids = set(
            session.exec(
                select(Notification.id).where(
                    col(Notification.campaign_id) == campaign_id,
                    col(Notification.status).in_(list(FINAL_NOTIFICATION)),
                    # Canceled with the campaign: told by campaign.finished, not one by one.
                    col(Notification.attempts_made) > 0,
                )
            ).all()
        )
        events = session.exec(select(WebhookEvent.id, WebhookEvent.kind, WebhookEvent.body)).all()
    per_person = Counter(call["recipient"] for call in calls)
    over = sum(1 for n in per_person.values() if n > _MAX_ATTEMPTS)
    orphans = sum(1 for call in calls if call["callid"] not in known)
    told = {
        json.loads(body)["notification"]["id"]
        for _, kind, body in events
        if kind == "notification.final"
    }
    never_taken = sum(1 for event_id, _, _ in events if str(event_id) not in taken)
    never_written = len(final_ids - told)
    return over, orphans, never_taken, never_written, len(events)


def _never_sent(session: Session, campaign_id: int) -> tuple[int, int]:
    """Attempts taken back unsent, and attempts closed `unknown` that were never sent."""
    rows = session.exec(
        select(Attempt.status, Attempt.outcome, Attempt.provider_status)
        .join(Notification, col(Notification.id) == col(Attempt.notification_id))
        .where(col(Notification.campaign_id) == campaign_id, col(Attempt.sent_at).is_(None))
    ).all()
    taken_back = sum(
        1 for status, _, raw in rows if status is AttemptStatus.not_sent and raw == "NeverSent"
    )
    unknown = sum(1 for _, outcome, _ in rows if outcome is Outcome.unknown)
    return taken_back, unknown


def run_chaos(
    contacts: int,
    workers: int,
    *,
    fault_rate: float = 0.1,
    kill_every_s: float = 5.0,
    redis_every_s: float = 30.0,
    max_minutes: float = 60.0,
    stall_minutes: float = 5.0,
    database_url: str | None = None,
    seed: int = 1,
) -> ChaosFigures:
    rng = random.Random(seed)
    started = time.monotonic()
    kills = restarts = 0
    all_final_after: float | None = None
    stalled_after: float | None = None
    with (
        tempfile.TemporaryDirectory(prefix="dialer-chaos-") as tmp,
        EmbeddedRedis() as redis,
        Receiver(refuse_rate=fault_rate, seed=seed) as receiver,
    ):
        workdir = Path(tmp)
        url = database_url or f"sqlite:///{workdir / 'chaos.db'}"
        upgrade_to_head(url)
        engine = make_sync_engine(url)
        campaign_id = _campaign(engine, workdir, contacts, receiver.url)
        web_port, sandbox_port = free_ports(2)
        env = {
            **deployment_env(url, redis.url, web_port, sandbox_port, 50),
            "DIALER_PROVIDER_TIMEOUT_S": "2.5",
            # The least a job may have: its slot's wait, the request's timeout and a second.
            "DIALER_JOB_TIMEOUT_S": "6",
            "DIALER_POLL_INTERVAL_S": "2",
            "DIALER_AMBIGUOUS_AFTER_S": "4",
            # Past every retry of a callback the sandbox makes (scaled to seconds): an attempt
            # still without word by then is closed `unknown`, never dialled again.
            "DIALER_RECONCILE_DEADLINE_S": "30",
            "DIALER_CREDIT_CHECK_INTERVAL_S": "300",
        }
        sandbox = DialerProcess(
            "sandbox",
            [
                *("sandbox", "--port", str(sandbox_port), "--time-scale", "0.01"),
                *("--balance", "1e9", "--no-log-requests"),
            ],
            env,
            workdir,
        )
        web = DialerProcess("web", ["web", "--port", str(web_port)], env, workdir)
        crew: list[DialerProcess] = []
        sandbox_api = f"http://127.0.0.1:{sandbox_port}/_sandbox"
        try:
            sandbox.wait_http(f"{sandbox_api}/knobs")
            httpx.post(f"{sandbox_api}/knobs", json=_sandbox_faults(fault_rate)).raise_for_status()
            web.wait_http(f"http://127.0.0.1:{web_port}/healthz")
            serial = 0

            def hire() -> None:
                nonlocal serial
                serial += 1
                crew.append(DialerProcess(f"worker-{serial}", ["worker"], env, workdir))

            for _ in range(workers):
                hire()
            next_kill = time.monotonic() + kill_every_s
            next_restart = time.monotonic() + redis_every_s
            deadline = started + max_minutes * 60
            calm = False
            seen, changed = (-1, -1), time.monotonic()
            while time.monotonic() < deadline:
                total, done, pending = _counts(engine, campaign_id)
                if (done, pending) != seen:
                    seen, changed = (done, pending), time.monotonic()
                elif time.monotonic() - changed > stall_minutes * 60:
                    stalled_after = round(changed - started, 1)
                    break
                if done == total and not calm:
                    # Every contact final: the storm ends and the events drain.
                    calm = True
                    all_final_after = round(time.monotonic() - started, 1)
                    httpx.post(f"{sandbox_api}/knobs", json=_sandbox_faults(0.0))
                    receiver.refuse_rate = 0.0
                if calm and pending == 0:
                    break
                now = time.monotonic()
                if not calm and now >= next_kill:
                    victim = crew.pop(rng.randrange(len(crew)))
                    victim.kill()
                    kills += 1
                    hire()
                    next_kill = now + kill_every_s
                if not calm and now >= next_restart:
                    redis.restart()
                    restarts += 1
                    next_restart = now + redis_every_s
                for process in [p for p in crew if p.popen.poll() is not None]:
                    crew.remove(process)  # lost its Redis, say: another takes its place
                    hire()
                if web.popen.poll() is not None:
                    web = DialerProcess("web", ["web", "--port", str(web_port)], env, workdir)
                time.sleep(0.5)
            calls: list[dict[str, Any]] = httpx.get(f"{sandbox_api}/calls", timeout=30).json()
        finally:
            for process in [*crew, web, sandbox]:
                process.stop()
        total, done, _ = _counts(engine, campaign_id)
        over, orphans, untaken, unwritten, events = _tally(
            engine, campaign_id, calls, receiver.taken
        )
        with Session(engine) as session:
            outcomes = session.exec(
                select(Notification.outcome, func.count())
                .where(col(Notification.campaign_id) == campaign_id)
                .group_by(col(Notification.outcome))
            ).all()
            taken_back, unknown_never_sent = _never_sent(session, campaign_id)
        engine.dispose()
    return ChaosFigures(
        contacts=total,
        final=done,
        over_dialled=over,
        orphan_provider_calls=orphans,
        lost_webhooks=untaken + unwritten,
        provider_calls=len(calls),
        webhook_events=events,
        webhooks_not_taken=untaken,
        webhooks_not_written=unwritten,
        outcomes={str(outcome): n for outcome, n in outcomes},
        taken_back=taken_back,
        unknown_never_sent=unknown_never_sent,
        all_final_after_s=all_final_after,
        stalled_after_s=stalled_after,
        workers=workers,
        kills=kills,
        redis_restarts=restarts,
        seconds=round(time.monotonic() - started, 1),
        faults={**_sandbox_faults(fault_rate), "webhook_refuse_rate": fault_rate},
    )
