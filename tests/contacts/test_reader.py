from __future__ import annotations

import io

import pytest

from dialer.contacts.reader import CsvLayout, CsvProblem, detect_encoding, read_rows


def _read(data: bytes, layout: CsvLayout | None = None) -> tuple[list[str], list[tuple]]:
    columns, rows = read_rows(io.BytesIO(data), layout or CsvLayout())
    names = [c.name for c in columns]
    return names, [(r.number, r.phone, r.timezone, r.variables, r.problem) for r in rows]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("phone,名前\n09012345678,山田\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "phone,名前\n09012345678,山田\n".encode(), "utf-8-sig"),
        ("phone,名前\n09012345678,山田\n".encode("cp932"), "cp932"),
        (b"phone,name\n09012345678,Yamada\n", "utf-8"),
    ],
)
def test_utf8_with_or_without_bom_and_shift_jis_are_told_apart(data: bytes, encoding: str) -> None:
    assert detect_encoding(data) == encoding
    rename = {} if b"name" in data else {"名前": "name"}
    names, rows = _read(data, CsvLayout(rename=rename))
    assert names == ["name"]
    assert rows[0][3]["name"] in {"山田", "Yamada"}


def test_rows_are_numbered_as_a_spreadsheet_numbers_them() -> None:
    data = b"Phone,name,tz\n+819012345678,A,Asia/Tokyo\n\n09012345679,B,\n09012345670\n"
    names, rows = _read(data)
    assert names == ["name"]
    assert rows == [
        (2, "+819012345678", "Asia/Tokyo", {"name": "A"}, None),
        (4, "09012345679", None, {"name": "B"}, None),
        (5, "09012345670", None, {}, "expected 3 fields, found 1"),
    ]


def test_columns_can_be_named_and_renamed() -> None:
    data = b"mobile number,first name\n09012345678,Aiko\n"
    layout = CsvLayout(phone_column="mobile number", rename={"first name": "first_name"})
    names, rows = _read(data, layout)
    assert names == ["first_name"]
    assert rows[0][1:4] == ("09012345678", None, {"first_name": "Aiko"})


@pytest.mark.parametrize(
    ("data", "layout", "words"),
    [
        (b"", CsvLayout(), "no header row"),
        (b"name,amount\nA,1\n", CsvLayout(), "no phone column"),
        (b"phone,name\n", CsvLayout(phone_column="cell"), "no column 'cell'"),
        (b"phone,name,name,x,x\n", CsvLayout(), "named 'name', 'x': rename all but one"),
        (b"phone,a,b\n", CsvLayout(rename={"b": "a"}), "named 'a'"),
        (b"phone,name\n", CsvLayout(rename={"nmae": "name"}), "does not have: nmae"),
        ("phone,名前\n".encode("cp932"), CsvLayout(encoding="utf-8"), "not utf-8"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, layout: CsvLayout, words: str) -> None:
    with pytest.raises(CsvProblem, match=words):
        _read(data, layout)


def test_japanese_headers_are_variables_as_they_are_and_others_are_kept() -> None:
    data = "氏名,電話番号,予約時刻,first name\n山田,09012345678,10時,Taro\n".encode()
    columns, rows = read_rows(io.BytesIO(data), CsvLayout())
    assert [(c.header, c.name, c.is_variable) for c in columns] == [
        ("氏名", "氏名", True),
        ("予約時刻", "予約時刻", True),
        ("first name", "first name", False),
    ]
    [row] = list(rows)
    assert row.phone == "09012345678"
    assert row.variables == {"氏名": "山田", "予約時刻": "10時", "first name": "Taro"}
