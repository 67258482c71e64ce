"""results.csv's rows made from the database's plain rows. Only the standard library and the
spreadsheet guard: an export process imports this module alone."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from dialer.spreadsheets import safe_cell

__all__ = ["ResultRows"]

_decode = json.JSONDecoder().raw_decode
# In a JSON document of text values: the characters a formula needs, and any escape (a tab or
# a carriage return is written escaped).
_MAY_HOLD_FORMULA = re.compile(r"[=+\-@\\]")


class ResultRows:
    """Makes a page's rows: the contact's own columns from its stored variables, by the key each
    upload gave them, then ours, then the answers to the script's questions. Every cell that
    came from outside (the upload, the person, the provider) goes through the spreadsheet guard.
    """

    def __init__(
        self, keys: dict[int | None, list[str | None]], width: int, questions: list[str]
    ) -> None:
        self._keys = keys
        self._no_keys: list[str | None] = [None] * width
        self._questions = questions

    def spec(self) -> dict[str, Any]:
        """What `from_spec` makes the same maker from, as JSON."""
        return {
            "keys": [[i, keys] for i, keys in self._keys.items()],
            "width": len(self._no_keys),
            "questions": self._questions,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> ResultRows:
        keys = {i: list(k) for i, k in spec["keys"]}
        return cls(keys, int(spec["width"]), list(spec["questions"]))

    def own_cells(self, import_id: int | None, variables: dict[str, str] | None) -> list[str]:
        return self._cells(import_id, variables or {}, guard=True)

    def own_cells_of_stored(self, import_id: int | None, text: str | None) -> list[str]:
        """`own_cells` of the contact's variables as stored: a document with none of the
        characters a formula needs, written or escaped, has no cell to guard."""
        if not text:
            return [""] * len(self._no_keys)
        found = _decode(text)[0]
        return self._cells(import_id, found, guard=bool(_MAY_HOLD_FORMULA.search(text)))

    def _cells(self, import_id: int | None, found: dict[str, str], *, guard: bool) -> list[str]:
        keys = self._keys.get(import_id, self._no_keys)
        if guard:
            return [safe_cell(found.get(k, "")) if k else "" for k in keys]
        return [found.get(k, "") if k else "" for k in keys]

    def answer_cells(self, answers: dict[str, str] | None) -> list[str]:
        found = answers or {}
        return [safe_cell(found.get(q, "")) for q in self._questions]

    def rows(self, contacts: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """A page's rows from the columns of `_page_query`, in its order. None is written as an
        empty cell."""
        own, asked, questions = self.own_cells_of_stored, self.answer_cells, bool(self._questions)
        return [
            [
                import_id,
                row,
                *own(import_id, variables),
                phone,
                status,
                outcome,
                safe_cell(answer) if answer else "",
                attempts_made,
                None if cost is None else round(cost, 4),
                created_at,
                finished_at,
                safe_cell(last_error) if last_error else "",
                safe_cell(provider_id) if provider_id else "",
                safe_cell(provider_status) if provider_status else "",
                safe_cell(transferred_to) if transferred_to else "",
                transfer_s,
                *(asked(_json(answers)) if questions else ()),
            ]
            for (
                _,
                import_id,
                row,
                variables,
                phone,
                status,
                outcome,
                answer,
                attempts_made,
                created_at,
                finished_at,
                last_error,
                answers,
                cost,
                provider_id,
                provider_status,
                transferred_to,
                transfer_s,
                _,
            ) in contacts
        ]


def _json(text: str | None) -> Any:
    return _decode(text)[0] if text else None
