"""The status callbacks providers post to /v1/callbacks, by provider and kind: what reads each
body into a StatusReport, and the field that names the call or message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from dialer.providers.base import StatusReport
from dialer.providers.voxology import parse_message
from dialer.providers.xoxzo import parse_call_status, parse_message_status

__all__ = ["ID_FIELD", "PARSERS", "Kind", "Provider"]

PARSERS: dict[tuple[str, str], Callable[[Mapping[str, Any]], StatusReport]] = {
    ("xoxzo", "voice"): parse_call_status,
    ("xoxzo", "sms"): parse_message_status,
    ("voxology", "sms"): parse_message,
}
ID_FIELD = {
    ("xoxzo", "voice"): "callid",
    ("xoxzo", "sms"): "msgid",
    ("voxology", "sms"): "message_id",
}
Provider = Literal["xoxzo", "voxology"]
Kind = Literal["voice", "sms"]
