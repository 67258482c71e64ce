"""API keys (stored as SHA-256 digests) and the signed tokens that authenticate callbacks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "FLOW_SECRET_HEADER",
    "NewApiKey",
    "callback_token",
    "din_token",
    "flow_secret",
    "generate_api_key",
    "hash_api_key",
    "split_api_key",
    "verify_callback_token",
    "verify_din_token",
    "verify_flow_secret",
]

_KEY_PREFIX = "dk"

# Voxology sends this header, as its callback configuration says, with every flow callback.
FLOW_SECRET_HEADER = "X-Dialer-Flow-Secret"


@dataclass(frozen=True)
class NewApiKey:
    plaintext: str
    prefix: str
    key_hash: str


def hash_api_key(plaintext: str) -> str:
    # Keys carry 256 bits of randomness, so a fast digest is enough; no password hashing needed.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    plaintext = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, key_hash=hash_api_key(plaintext))


def split_api_key(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed key, or None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != _KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def callback_token(secret_key: str, provider: str, attempt_id: int) -> str:
    message = f"callback:{provider}:{attempt_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def din_token(secret_key: str, din_uid: str) -> str:
    message = f"din-action:{din_uid}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def verify_din_token(secret_key: str, din_uid: str, token: str) -> bool:
    return hmac.compare_digest(din_token(secret_key, din_uid), token)


def verify_callback_token(secret_key: str, provider: str, attempt_id: int, token: str) -> bool:
    return hmac.compare_digest(callback_token(secret_key, provider, attempt_id), token)


def flow_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"voxology-flow", hashlib.sha256).hexdigest()[:40]


def verify_flow_secret(secret_key: str, presented: str) -> bool:
    return hmac.compare_digest(flow_secret(secret_key), presented)
