"""The console's signed session cookie and the CSRF tokens bound to it. The cookie names an API
key by id and carries a random nonce; it is signed with DIALER_SECRET_KEY, and every request
checks again that the key exists and is not revoked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

__all__ = [
    "LIFETIME_S",
    "SignedIn",
    "csrf_token",
    "login_token",
    "new_nonce",
    "seal",
    "unseal",
    "valid_csrf",
    "valid_login_token",
]

# A signed-in console stays signed in for a working day.
LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class SignedIn:
    key_id: int
    nonce: str
    issued_at: int


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def _mac(secret: str, purpose: str, message: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{message}".encode(), hashlib.sha256)
    return digest.hexdigest()


def _same(expected: str, presented: str) -> bool:
    # As bytes: compare_digest refuses a str with characters outside ASCII.
    return hmac.compare_digest(expected.encode(), presented.encode())


def seal(secret: str, session: SignedIn) -> str:
    body = json.dumps([session.key_id, session.nonce, session.issued_at], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_mac(secret, 'session', payload)}"


def unseal(secret: str, cookie: str, now: float) -> SignedIn | None:
    """The session a cookie carries, if it is ours, well formed and not expired."""
    payload, _, signature = cookie.partition(".")
    if len(cookie) > 300 or not _same(_mac(secret, "session", payload), signature):
        return None
    try:
        key_id, nonce, issued_at = json.loads(base64.urlsafe_b64decode(payload + "=="))
    except ValueError:
        return None
    if not (isinstance(key_id, int) and isinstance(nonce, str) and isinstance(issued_at, int)):
        return None
    if not 0 <= now - issued_at < LIFETIME_S:
        return None
    return SignedIn(key_id, nonce, issued_at)


def csrf_token(secret: str, session: SignedIn) -> str:
    return _mac(secret, "csrf", session.nonce)


def valid_csrf(secret: str, session: SignedIn, presented: str) -> bool:
    return _same(csrf_token(secret, session), presented)


def login_token(secret: str, nonce: str) -> str:
    """The sign-in form's CSRF token, bound to a nonce in its own short cookie."""
    return _mac(secret, "login", nonce)


def valid_login_token(secret: str, nonce: str, presented: str) -> bool:
    return _same(login_token(secret, nonce), presented)
