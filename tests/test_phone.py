from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Notations people and spreadsheets write one number in: other scripts' digits (full-width,
# Arabic-Indic, Devanagari), separators, a full-width plus, the national prefix or the code.
_DIGIT_SETS = [
    "0123456789",
    "０１２３４５６７８９",
    "٠١٢٣٤٥٦٧٨٩",
    "०१२३४५६७८९",
]


@st.composite
def _notations(draw: st.DrawFn) -> tuple[str, str]:
    canonical = "+81901" + draw(st.from_regex(r"[0-9]{7}", fullmatch=True))
    national = "0" + canonical[3:]
    digits = draw(st.sampled_from([national, canonical[1:]]))
    out = []
    if digits is not national:
        out.append(draw(st.sampled_from(["+", "＋"])))
    for ch in digits:
        out.append(draw(st.sampled_from(_DIGIT_SETS))[int(ch)])
        out.append(draw(st.sampled_from(["", "", " ", "-", "‐", "(", ")", "."])))
    return "".join(out), canonical


@given(_notations())
@settings(max_examples=300, deadline=None)
def test_any_notation_of_a_number_is_its_one_ascii_e164(case: tuple[str, str]) -> None:
    written, canonical = case
    assert normalise(written, "JP") == canonical


@given(st.text(max_size=40))
@settings(max_examples=500, deadline=None)
def test_any_text_is_ascii_e164_or_refused_with_a_reason(raw: str) -> None:
    try:
        number = normalise(raw, "JP")
    except InvalidNumber:
        return
    assert number.isascii() and number[0] == "+" and number[1:].isdigit()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0901２３４５６７８", "+819012345678"),
        ("+331２３４５６７８９", "+33123456789"),
        ("＋８１９０１２３４５６７８", "+819012345678"),
    ],
)
def test_full_width_digits_after_an_ascii_prefix_fold_to_ascii(raw: str, expected: str) -> None:
    assert normalise(raw, "JP") == expected


def test_superscript_digits_are_refused_not_a_crash() -> None:
    with pytest.raises(InvalidNumber):
        normalise("+⁸¹9011112232", "JP")
