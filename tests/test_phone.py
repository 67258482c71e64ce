from __future__ import annotations

import pytest

from dialer.phone import InvalidNumber, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("090-1234-5678", "JP", "+819012345678"),
        ("+81 90 1234 5670", "JP", "+819012345670"),
        ("03-1234-5678", "JP", "+81312345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "JP", "+14155552671"),
        ("  +819012345678  ", "jp", "+819012345678"),
    ],
)
def test_normalises_to_e164(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("12", "too short"),
        ("hello", "not a phone number"),
        ("+999 1234567", "missing or unknown country code"),
        ("+81 90 1234 567890", "not a valid number for its country"),
    ],
)
def test_refuses_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidNumber, match=reason):
        to_e164(raw, "JP")
