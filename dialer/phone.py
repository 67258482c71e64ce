"""Phone numbers: validated and normalised to E.164 before anything is stored or dialled."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberDesc

__all__ = [
    "InvalidNumber",
    "ascii_e164",
    "fast_e164",
    "fast_normaliser",
    "normalise",
    "to_e164",
]


class InvalidNumber(ValueError):
    """A number that cannot be dialled, with the reason in words."""


_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length for its country",
}


def to_e164(raw: str, default_region: str) -> str:
    """Normalise `raw` to E.164; a number without a country code is read in `default_region`."""
    text = raw.strip()
    if not text:
        raise InvalidNumber("empty")
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(_parse_reason(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        reason = _REASONS.get(phonenumbers.is_possible_number_with_reason(number))
        raise InvalidNumber(reason or "not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_reason(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "missing or unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "not a phone number")


# Imports normalise millions of numbers, and phonenumbers.parse alone manages some 45,000 a
# second. The common shapes ("+81 90-1234-5678", "090 1234 5678") are checked here against the
# same metadata in a few microseconds; anything else, and every invalid number, goes through
# phonenumbers, which also says why. tests/test_phone.py checks both agree.

_SEPARATORS = str.maketrans("", "", " -().\t")
_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


def _pattern(desc: PhoneNumberDesc | None) -> str | None:
    """A desc's pattern with its possible lengths folded in as a lookahead (NSNs are digits)."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = "|".join(f".{{{n}}}$" for n in sorted(desc.possible_length or ()))
    guard = f"(?={lengths})" if lengths else ""
    return f"{guard}(?:{desc.national_number_pattern})"


@lru_cache(maxsize=512)
def _region(region: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """Two patterns a valid NSN of `region` matches: the general one, and one of its types."""
    metadata = PhoneMetadata.metadata_for_region(region)
    general = _pattern(metadata.general_desc) if metadata else None
    if metadata is None or general is None:
        return None
    types = [p for p in (_pattern(getattr(metadata, name)) for name in _TYPES) if p]
    if not types:
        return None
    return re.compile(general), re.compile("|".join(f"(?:{p})" for p in types))


@lru_cache(maxsize=512)
def _national_prefix(region: str) -> tuple[int, str] | None:
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.national_prefix or metadata.country_code is None:
        return None
    return metadata.country_code, metadata.national_prefix


@lru_cache(maxsize=512)
def _country(country_code: int) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    return tuple(rules for r in regions if (rules := _region(r)) is not None)


def fast_e164(raw: str, default_region: str) -> str | None:
    """E.164 for a valid number in a common shape, else None (ask to_e164)."""
    return fast_normaliser(default_region.upper())(raw)


@lru_cache(maxsize=64)
def fast_normaliser(default_region: str) -> Callable[[str], str | None]:
    """fast_e164 for one default region, with everything about the region looked up once."""
    national = _national_prefix(default_region)
    home_code, prefix = national if national else (0, "")
    home = _country(home_code) if national else ()
    codes = COUNTRY_CODE_TO_REGION_CODE

    def normalise(raw: str) -> str | None:
        text = raw.strip().translate(_SEPARATORS)
        if not text.isascii():
            # Full-width and other scripts' digits, superscripts...: str.isdigit() takes them
            # all, and re's \d too; phonenumbers folds those it should and refuses the rest.
            return None
        if text.startswith("+"):
            digits = text[1:]
            if not digits.isdigit():
                return None
            for width in (1, 2, 3):
                country_code = int(digits[:width])
                if country_code in codes:
                    nsn, rules = digits[width:], _country(country_code)
                    break
            else:
                return None
        elif national is not None and text.isdigit():
            country_code, rules = home_code, home
            nsn = text[len(prefix) :] if text.startswith(prefix) else text
        else:
            return None
        # A leading zero can be a trunk prefix or part of the number (Italy): phonenumbers decides.
        if not nsn or nsn[0] == "0":
            return None
        for general, kinds in rules:
            if general.fullmatch(nsn) and kinds.fullmatch(nsn):
                return f"+{country_code}{nsn}"
        return None

    return normalise


def normalise(raw: str, default_region: str) -> str:
    """to_e164, with the fast path first."""
    return fast_e164(raw, default_region) or to_e164(raw, default_region)


def ascii_e164(stored: str) -> str:
    """A stored E.164 number with any digit of another script (stored before numbers were
    always folded) written in ASCII, so that it matches the same number on a list."""
    if stored.isascii():
        return stored
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in stored)
