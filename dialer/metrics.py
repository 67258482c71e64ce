"""What each process counts for Prometheus (`/metrics` on the web process; `DIALER_METRICS_PORT`
on a worker process): attempts ended, provider request times, 429s, waits for a slot, provider
callbacks. A scrape of the web process and of every worker process sees every figure once: each
process counts what it did itself (`up` runs them all in one process, one registry). The web
process adds what only the database knows at scrape time: notifications due and waiting, the
age of the oldest, webhook events pending and failed."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

__all__ = [
    "ATTEMPTS",
    "CALLBACKS",
    "DUE",
    "LIMITER_WAIT",
    "OLDEST_DUE",
    "PROVIDER_SECONDS",
    "THROTTLED",
    "WEBHOOK_EVENTS",
    "serve_worker_metrics",
]

log = logging.getLogger(__name__)

ATTEMPTS = Counter(
    "dialer_attempts",
    "Attempts that reached a final status in this process, by provider, channel and outcome",
    ["provider", "channel", "outcome"],
)
PROVIDER_SECONDS = Histogram(
    "dialer_provider_request_seconds",
    "How long a provider took to answer a request, by provider and kind of request",
    ["provider", "kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
THROTTLED = Counter(
    "dialer_provider_throttled", "Requests a provider answered with 429, by provider", ["provider"]
)
LIMITER_WAIT = Histogram(
    "dialer_limiter_wait_seconds",
    "How long a request waited for its slot and for room in the provider's window",
    ["provider", "kind"],
    buckets=(0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CALLBACKS = Counter(
    "dialer_callbacks",
    "Provider callbacks and flow requests, by provider and whether they were taken or refused",
    ["provider", "result"],
)
DUE = Gauge("dialer_notifications_due", "Queued notifications whose time has come")
OLDEST_DUE = Gauge(
    "dialer_oldest_due_age_seconds", "How long the longest-waiting due notification has waited"
)
WEBHOOK_EVENTS = Gauge("dialer_webhook_events", "Webhook events by status", ["status"])

_serving: set[int] = set()


def serve_worker_metrics(host: str, port: int) -> None:
    """A worker process's own /metrics, on its own port (once, however many arq workers the
    process runs)."""
    if port in _serving:
        return
    start_http_server(port, addr=host)
    _serving.add(port)
    log.info("worker metrics at http://%s:%s/metrics", host, port)
