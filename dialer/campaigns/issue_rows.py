"""issues.csv's rows made from the database's plain rows. Only the spreadsheet guard: an export
process imports this module alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dialer.spreadsheets import safe_cell

__all__ = ["HEADER", "issue_rows"]

HEADER = ["row", "phone", "reason"]


def issue_rows(issues: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """A page's rows from (id, row number, phone, reason). The phone and the reason are through
    the spreadsheet guard: both may hold what the upload wrote."""
    return [
        [row, safe_cell(phone) if phone else "", safe_cell(reason)]
        for _, row, phone, reason in issues
    ]
