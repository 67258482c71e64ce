"""What we write into CSV files people open in spreadsheets."""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "safe_cell"]

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading quote.
    Numbers stay numbers; a phone number like +8190… becomes '+8190…, which shows as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
