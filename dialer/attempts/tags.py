"""What a request carries to name its attempt, and what a lost one is looked up by."""

from __future__ import annotations

from typing import Any

from dialer.security import callback_token

__all__ = ["attempt_tag", "session_data_for"]


def attempt_tag(attempt_id: int) -> str:
    """Xoxzo's tags and Voxology's external_id."""
    return f"attempt-{attempt_id}"


def session_data_for(secret_key: str, attempt_id: int) -> dict[str, Any]:
    """What a Voxology call carries so that each of its callbacks proves which attempt it is."""
    return {"attempt_id": attempt_id, "token": callback_token(secret_key, "voxology", attempt_id)}
