"""CSV and XLSX writers that consume an async iterator of rows and yield bytes as they go.

CSV is written row by row, in chunks of a few hundred rows, behind a UTF-8 BOM so that Excel
reads Chinese correctly. XLSX rows are written as sheet XML into a zip in a temporary file
(``exports.xlsx``), then the finished workbook is read back from it in chunks; the CPU work runs
in a thread a batch at a time, so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import IO, Any

from voucher_service.exports.columns import Column, headers
from voucher_service.exports.xlsx import SheetWriter, cell_writers
from voucher_service.kit.i18n import Language

BOM = "\ufeff"
CSV_BATCH = 500
XLSX_BATCH = 2000
CHUNK_BYTES = 64 * 1024
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A text cell that a spreadsheet will not run as a formula (numbers are left alone)."""
    text = "" if value is None else str(value)
    if text[:1] in _FORMULA_START and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


async def csv_stream(
    columns: Sequence[Column], rows: AsyncIterable[Any], language: Language
) -> AsyncIterator[bytes]:
    """The rows as UTF-8 CSV with a BOM, yielded every ``CSV_BATCH`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers(columns, language))
    count = 0
    async for row in rows:
        writer.writerow([safe_cell(column.cell(row)) for column in columns])
        count += 1
        if count % CSV_BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _append(sheet: SheetWriter, columns: Sequence[Column], batch: list[Any]) -> None:
    if not batch:
        return
    cells = cell_writers(columns, safe_cell, getattr(batch[0], "_fields", None))
    sheet.write(["".join([cell(row) for cell in cells]) for row in batch])


def _finish(sheet: SheetWriter, target: IO[bytes]) -> None:
    sheet.close()
    target.seek(0)


async def xlsx_stream(
    columns: Sequence[Column], rows: AsyncIterable[Any], language: Language, sheet_title: str
) -> AsyncIterator[bytes]:
    """The rows as an XLSX workbook of one sheet, streamed back from a temporary file."""
    with tempfile.TemporaryFile() as target:
        sheet = SheetWriter(target, sheet_title)
        sheet.header(headers(columns, language))
        batch: list[Any] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= XLSX_BATCH:
                await asyncio.to_thread(_append, sheet, columns, batch)
                batch = []
        await asyncio.to_thread(_append, sheet, columns, batch)
        await asyncio.to_thread(_finish, sheet, target)
        while chunk := await asyncio.to_thread(target.read, CHUNK_BYTES):
            yield chunk
