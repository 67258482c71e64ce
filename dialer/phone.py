"""Phone numbers: validated and normalised to E.164 before anything is stored or dialled."""

from __future__ import annotations

import phonenumbers

__all__ = ["InvalidNumber", "to_e164"]


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
