"""What we write into CSV files people open in spreadsheets."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_STARTS", "safe_cell"]

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"\A[+-]?[0-9]{1,30}(\.[0-9]{1,30})?\Z")
# Where a spreadsheet may split one of our cells into several: the separators of the CSV
# dialects in use (a European Excel splits on ";" a cell we wrote for ","), and line breaks.
_SPLIT_FORMULA = re.compile(r"([,;\t|\r\n][ ]*)(?=[=+\-@])")
# Where a formula may start, in one search: at the cell's start or after a separator, past
# spaces. Most cells have neither and are returned as they are, at the cost of this search.
_MAY_START = re.compile(r"\A[ ]*[=+\-@\t\r]|[,;\t|\r\n][ ]*[=+\-@]")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading quote: at the
    start of the cell, after leading spaces, and after any separator a spreadsheet may split it
    on. Numbers stay numbers, signed ones too: +819012345678 (a phone number in E.164) is a
    number to a spreadsheet, never a formula, and a program reading the file gets it as sent."""
    if not isinstance(value, str) or not _MAY_START.search(value) or _PLAIN_NUMBER.match(value):
        return value
    guarded = _SPLIT_FORMULA.sub(r"\1'", value)
    if guarded.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + guarded
    return guarded
