"""The signature on every webhook request: HMAC-SHA256 with the endpoint's secret over the
timestamp, a dot and the raw body, sent as `X-Dialer-Signature: t=<unix seconds>,v1=<hex>`.
The timestamp lets a receiver refuse an old request replayed (docs/api.md: the snippet)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "EVENT_HEADER",
    "EVENT_ID_HEADER",
    "SIGNATURE_HEADER",
    "new_secret",
    "signature",
]

SIGNATURE_HEADER = "X-Dialer-Signature"
EVENT_HEADER = "X-Dialer-Event"
# The same event is sent again until it is taken: receivers keep the ids they have seen.
EVENT_ID_HEADER = "X-Dialer-Event-Id"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"
