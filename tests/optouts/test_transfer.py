"""The global do-not-contact list in and out as CSV, through the API: every row of an import is
added, already there, or reported; the export gives back what is listed."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Harness


async def _import(
    harness: Harness, content: bytes, name: str = "dnc.csv"
) -> tuple[int, dict[str, Any]]:
    answer = await harness.api.post(
        "/v1/do-not-contact/import", files={"file": (name, content, "text/csv")}
    )
    return answer.status_code, answer.json()


async def test_an_import_adds_reports_and_the_export_gives_the_list_back(harness: Harness) -> None:
    await harness.api.post("/v1/do-not-contact", json={"number": "090-1111-2222"})
    text = (
        "電話番号,reason\n"
        "090-1111-2222,again\n"
        "090-3333-4444,頼まれた\n"
        "+819055556666,\n"
        "not a number,x\n"
        "090-3333-4444,twice in the file\n"
        "\n"
    )
    status, report = await _import(harness, text.encode("cp932"))
    assert status == 200, report
    assert (report["rows"], report["added"], report["already"], report["invalid"]) == (5, 2, 2, 1)
    assert report["issues"] == [
        {"row": 5, "value": "not a number", "reason": "invalid phone number: not a phone number"}
    ]
    export = await harness.api.get("/v1/do-not-contact.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0] == ["number", "source", "reason", "created_at"]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("+819011112222", "api", ""),
        ("+819033334444", "import", "頼まれた"),
        ("+819055556666", "import", ""),
    ]
    history = (await harness.api.get("/v1/do-not-contact/09033334444/history")).json()
    assert [(e["change"], e["source"]) for e in history] == [("added", "import")]


async def test_a_file_without_a_number_column_is_refused_whole(harness: Harness) -> None:
    status, body = await _import(harness, b"name,reason\nA,B\n")
    assert status == 422
    assert body["detail"][0]["loc"] == ["body", "file"]
    assert (await harness.api.get("/v1/do-not-contact")).json() == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(st.text(max_size=30), st.binary(max_size=30).map(lambda b: b.decode("latin-1"))),
        max_size=30,
    )
)
async def test_any_rows_are_each_accounted_for(harness: Harness, cells: list[str]) -> None:
    lines = "number\n" + "".join(c.replace("\n", " ") + "\n" for c in cells)
    status, report = await _import(harness, lines.encode("utf-8", "surrogatepass"))
    assert status == 200, report
    assert report["added"] + report["already"] + report["invalid"] == report["rows"]
