from __future__ import annotations

import pytest

from dialer.spreadsheets import safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+819012345670", "'+819012345670"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Aiko", "Aiko"),
        (12, 12),
        (-3.5, -3.5),
        (None, None),
    ],
)
def test_formula_cells_are_neutralised(value: object, written: object) -> None:
    assert safe_cell(value) == written
