from __future__ import annotations

import random

import phonenumbers
import pytest

from dialer.phone import InvalidNumber, fast_e164, normalise, to_e164


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


REGIONS = ("JP", "US", "CA", "GB", "DE", "FR", "IT", "AU", "IN", "BR", "CN", "KR", "MX", "AR")
FORMATS = (
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
)


def _shapes(seed: int) -> list[tuple[str, str]]:
    """Numbers in the shapes people type: every region's examples in three formats, then the
    same with digits changed, dropped and added, read with several default regions."""
    rng = random.Random(seed)
    samples: list[tuple[str, str]] = []
    for region in REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for fmt in FORMATS:
                text = phonenumbers.format_number(example, fmt)
                variants = [text]
                for _ in range(15):
                    chars = list(text)
                    spots = [i for i, c in enumerate(chars) if c.isdigit()]
                    i = rng.choice(spots[1:] or spots)
                    action = rng.randrange(3)
                    if action == 0:
                        chars[i] = str(rng.randrange(10))
                    elif action == 1:
                        del chars[i]
                    else:
                        chars.insert(i, str(rng.randrange(10)))
                    variants.append("".join(chars))
                for variant in variants:
                    for default in (region, "JP", "US"):
                        samples.append((variant, default))
    return samples


def test_the_fast_path_agrees_with_phonenumbers_whenever_it_answers() -> None:
    answered = 0
    samples = _shapes(7)
    for raw, region in samples:
        fast = fast_e164(raw, region)
        if fast is None:
            continue
        answered += 1
        assert to_e164(raw, region) == fast, (raw, region)
        assert normalise(raw, region) == fast
    # It must also be the path most valid numbers take, or it is no fast path.
    assert answered > len(samples) // 4, (answered, len(samples))


@pytest.mark.parametrize(
    ("raw", "region"),
    [("090-1234-5678", "JP"), ("+81 90 1234 5670", "JP"), ("(415) 555-2671", "US")],
)
def test_common_shapes_take_the_fast_path(raw: str, region: str) -> None:
    assert fast_e164(raw, region) == to_e164(raw, region)


def test_normalise_falls_back_to_phonenumbers_for_the_reason() -> None:
    with pytest.raises(InvalidNumber, match="too short"):
        normalise("12", "JP")
