"""results.csv's own columns, read back by a program: whatever the headers and the values, each
cell comes back as uploaded (a formula-like one with the spreadsheet guard's leading quote), under
its header as uploaded, and no header of the upload hides one of ours."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from dialer.campaigns.results import OUR_COLUMNS, Results
from dialer.models import ContactImport
from dialer.spreadsheets import safe_cell

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@given(
    st.lists(st.one_of(_TEXT, st.sampled_from(OUR_COLUMNS)), min_size=1, max_size=5, unique=True),
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
        [safe_cell(v) for v in ["7", "2", *results.own_cells(7, values), "+819012345678"]]
    )
    header, row = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert len(set(header)) == len(header)  # no column hides another
    assert header[-len(OUR_COLUMNS) :] == OUR_COLUMNS  # no script: no question columns
    for i, uploaded in enumerate(headers):
        shown = header[2 + i]
        assert shown == uploaded or (shown == f"{uploaded} (csv)" and uploaded in OUR_COLUMNS)
        assert row[2 + i] == safe_cell(values[f"key{i}"])
    assert row[2 + len(headers)] == "+819012345678"


def test_a_contact_of_an_upload_without_a_column_gets_an_empty_cell() -> None:
    first = ContactImport(id=1, campaign_id=1, columns=[["name", "name"]])
    second = ContactImport(id=2, campaign_id=1, columns=[["氏名", "氏名"], ["name", "name"]])
    results = Results([first, second])
    assert results.header[:4] == ["import_id", "row", "name", "氏名"]
    assert results.own_cells(1, {"name": "Aiko"}) == ["Aiko", ""]
