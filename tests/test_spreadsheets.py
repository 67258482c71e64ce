from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.spreadsheets import safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        # A signed number is a number to a spreadsheet, not a formula: E.164 stays as sent.
        ("+819012345670", "+819012345670"),
        ("-12.5", "-12.5"),
        ("+81 90 1234", "'+81 90 1234"),
        ("+1+1", "'+1+1"),
        ("1,+2", "1,'+2"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t'=1"),
        ('x;=HYPERLINK("http://x")', 'x;\'=HYPERLINK("http://x")'),
        ("a, -2+3", "a, '-2+3"),
        ("ok|@SUM(A1)", "ok|'@SUM(A1)"),
        ("line\n=1+1", "line\n'=1+1"),
        ("  =1", "'  =1"),
        ("a-b, c", "a-b, c"),
        ("Aiko", "Aiko"),
        (12, 12),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_formula_cells_are_neutralised(value: object, written: object) -> None:
    assert safe_cell(value) == written


@given(st.text(alphabet=st.sampled_from(list("ab =+-@,;|\t\r\n'")), max_size=30))
def test_no_piece_a_spreadsheet_may_split_off_starts_a_formula(value: str) -> None:
    for piece in re.split(r"[,;\t|\r\n]", str(safe_cell(value))):
        assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (value, piece)


@given(st.text(alphabet=st.sampled_from(list("0123456789.+-=@,; ")), max_size=20))
def test_what_is_left_unguarded_is_a_plain_number_or_harmless(value: str) -> None:
    written = str(safe_cell(value))
    if written == value and value.lstrip(" ").startswith(("=", "+", "-", "@")):
        assert re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", value), value


def _guarded_the_long_way(value: str) -> str:
    """The guard without its first search: every cell with a formula character goes through."""
    if not re.search(r"[=+\-@\t\r]", value) or re.fullmatch(
        r"[+-]?[0-9]{1,30}(\.[0-9]{1,30})?", value
    ):
        return value
    guarded = re.sub(r"([,;\t|\r\n][ ]*)(?=[=+\-@])", r"\1'", value)
    return (
        "'" + guarded
        if guarded.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))
        else guarded
    )


@given(st.text(alphabet=st.sampled_from(list("a1 .=+-@,;|\t\r\n'")), max_size=30) | st.text())
def test_the_first_search_lets_through_only_cells_the_guard_leaves_alone(value: str) -> None:
    assert safe_cell(value) == _guarded_the_long_way(value)
