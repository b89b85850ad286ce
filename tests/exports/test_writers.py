"""Streamed exports: headers in either language, yuan amounts, Beijing time, safe cells, memory."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from voucher_service.exports import Column, amount_yuan, local_time, money, safe_cell
from voucher_service.exports.writers import csv_stream, xlsx_stream

COLUMNS = [
    Column("order_id", "订单号", "Order id"),
    money("amount", "金额（元）", "Amount (CNY)"),
    Column("at", "时间", "Time"),
]


async def rows(count: int) -> AsyncIterator[dict[str, object]]:
    at = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    for number in range(count):
        yield {"order_id": f"订单-{number}", "amount": number * 101, "at": at}


async def collect(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


def test_amounts_are_exact_yuan_and_times_are_beijing() -> None:
    assert [amount_yuan(v) for v in (0, 5, 100, 123456789, -1234)] == [
        "0.00",
        "0.05",
        "1.00",
        "1234567.89",
        "-12.34",
    ]
    assert local_time(datetime(2026, 1, 31, 16, 30, tzinfo=UTC)) == "2026-02-01 00:30:00"


def test_text_that_a_spreadsheet_would_run_is_quoted_but_numbers_are_not() -> None:
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("-12.34") == "-12.34"
    assert safe_cell(None) == ""


async def test_csv_has_a_bom_and_chinese_headers_by_default() -> None:
    body = await collect(csv_stream(COLUMNS, rows(3), "zh"))
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == ["订单号", "金额（元）", "时间"]
    assert table[3] == ["订单-2", "2.02", "2026-02-01 00:30:00"]


async def test_csv_in_english() -> None:
    body = await collect(csv_stream(COLUMNS, rows(1), "en"))
    assert body.decode("utf-8-sig").splitlines()[0] == "Order id,Amount (CNY),Time"


async def test_xlsx_is_a_workbook_with_numeric_amounts() -> None:
    body = await collect(xlsx_stream(COLUMNS, rows(3), "en", "orders"))
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == ["Order id", "Amount (CNY)", "Time"]
    assert table[3][0] == "订单-2" and float(table[3][1]) == pytest.approx(2.02)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_memory_stays_bounded_for_200k_rows(kind: str) -> None:
    count = 200_000
    stream = csv_stream(COLUMNS, rows(count), "zh")
    if kind == "xlsx":
        stream = xlsx_stream(COLUMNS, rows(count), "zh", "orders")
    tracemalloc.start()
    try:
        size = 0
        async for chunk in stream:
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > count * 10  # every row was written
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
