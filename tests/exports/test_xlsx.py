"""The hand-written XLSX sheet: what openpyxl reads back is what was written, cell for cell."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from typing import NamedTuple

from openpyxl import load_workbook

from voucher_service.exports import Column, money
from voucher_service.exports.writers import xlsx_stream

COLUMNS = [
    Column("text", "文本", "Text"),
    money("amount", "金额（元）", "Amount (CNY)"),
    Column("count", "数量", "Count"),
]


async def rows(items: list[dict[str, object]]) -> AsyncIterator[dict[str, object]]:
    for item in items:
        yield item


async def workbook_of(items: list[dict[str, object]], title: str = "orders") -> bytes:
    return b"".join([chunk async for chunk in xlsx_stream(COLUMNS, rows(items), "en", title)])


async def test_cells_read_back_exactly_with_gaps_in_place() -> None:
    body = await workbook_of(
        [
            {"text": "a < b & c > d", "amount": -1234, "count": 7},
            {"text": None, "amount": None, "count": 3},
            {"text": "  padded ", "amount": 123456789, "count": None},
            {"text": "bell\x07 and nul\x00 dropped", "amount": 5, "count": 0},
            {"text": "=SUM(A1)", "amount": 0, "count": -2},
        ]
    )
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["Text", "Amount (CNY)", "Count"],
        ["a < b & c > d", -12.34, 7],
        [None, None, 3],
        ["  padded ", 1234567.89, None],
        ["bell and nul dropped", 0.05, 0],
        ["'=SUM(A1)", 0, -2],
    ]
    assert sheet["B2"].number_format == "0.00"
    assert sheet["C2"].number_format == "General"


async def test_amounts_are_written_as_their_exact_decimal_text() -> None:
    body = await workbook_of([{"text": "x", "amount": 10, "count": 1}])
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert '<c s="1"><v>0.10</v></c>' in sheet


async def test_a_sheet_title_is_made_valid() -> None:
    body = await workbook_of([], title="settlement [2026/11]: items of a very long name")
    workbook = load_workbook(io.BytesIO(body))
    assert workbook.sheetnames == ["settlement _2026_11__ items of "]
    assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == [  # type: ignore[union-attr]
        ["Text", "Amount (CNY)", "Count"]
    ]


async def test_rows_with_fields_are_read_by_position() -> None:
    class Row(NamedTuple):
        count: int
        amount: int
        text: str

    async def tuples() -> AsyncIterator[Row]:
        yield Row(1, 250, "first")
        yield Row(2, 5, "second")

    body = b"".join([chunk async for chunk in xlsx_stream(COLUMNS, tuples(), "zh", "rows")])
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [  # type: ignore[union-attr]
        ["文本", "金额（元）", "数量"],
        ["first", 2.5, 1],
        ["second", 0.05, 2],
    ]
