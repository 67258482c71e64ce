"""results.csv's own columns, read back by a program: whatever the headers and the values, each
cell comes back as uploaded (a formula-like one with the spreadsheet guard's leading quote), under
its header as uploaded, and no header of the upload hides one of ours."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from dialer.campaigns.results import OUR_COLUMNS, Results
from dialer.contacts.checks import json_writer
from dialer.models import ContactImport
from dialer.spreadsheets import safe_cell

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
# Our names, and the names we would give an upload's column named like one of ours.
_NAMED = ["import_id", "row", *OUR_COLUMNS, "phone (csv)", "row (csv)", "phone (csv 2)"]
_OURS = {"import_id", "row", *OUR_COLUMNS}


@given(
    st.lists(st.one_of(_TEXT, st.sampled_from(_NAMED)), min_size=1, max_size=5, unique=True),
    st.data(),
)
def test_every_uploaded_cell_reads_back_under_its_header(
    headers: list[str], data: st.DataObject
) -> None:
    columns = [[h, f"key{i}"] for i, h in enumerate(headers)]
    upload = ContactImport(id=7, campaign_id=1, columns=columns)
    values = {f"key{i}": data.draw(_TEXT) for i in range(len(headers))}
    results = Results([upload])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(results.header)
    writer.writerow(
        [safe_cell(v) for v in ["7", "2", *results.rows.own_cells(7, values), "+819012345678"]]
    )
    header, row = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert len(set(header)) == len(header)  # no column hides another
    assert header[-len(OUR_COLUMNS) :] == OUR_COLUMNS  # no script: no question columns
    for i, uploaded in enumerate(headers):
        shown = header[2 + i]
        if uploaded in _OURS:
            assert shown.startswith(f"{uploaded} (csv")
        else:
            assert shown == uploaded
        assert row[2 + i] == safe_cell(values[f"key{i}"])
    assert row[2 + len(headers)] == "+819012345678"


def test_a_contact_of_an_upload_without_a_column_gets_an_empty_cell() -> None:
    first = ContactImport(id=1, campaign_id=1, columns=[["name", "name"]])
    second = ContactImport(id=2, campaign_id=1, columns=[["氏名", "氏名"], ["name", "name"]])
    results = Results([first, second])
    assert results.header[:4] == ["import_id", "row", "name", "氏名"]
    assert results.rows.own_cells(1, {"name": "Aiko"}) == ["Aiko", ""]


def test_an_upload_column_named_as_our_mark_keeps_its_name() -> None:
    columns = [["phone", "a"], ["phone (csv)", "b"], ["row", "c"]]
    results = Results([ContactImport(id=1, campaign_id=1, columns=columns)], ["phone (csv 2)"])
    assert results.header[2:5] == ["phone (csv 2)", "phone (csv)", "row (csv)"]
    assert results.header[-1] == "phone (csv 2) (answer)"


@given(st.lists(_TEXT, min_size=1, max_size=4))
def test_a_stored_document_gives_the_cells_its_values_give(values: list[str]) -> None:
    keys = [f"k{i}" for i in range(len(values))]
    upload = ContactImport(id=3, campaign_id=1, columns=[[k, k] for k in keys])
    stored = json_writer(keys)(dict(zip(keys, values, strict=True)))
    results = Results([upload])
    expected = [safe_cell(v) for v in values]
    assert results.rows.own_cells(3, json.loads(stored)) == expected
    assert results.rows.own_cells_of_stored(3, stored) == expected
    assert results.rows.own_cells_of_stored(3, None) == [""] * len(values)
