"""Streaming parser of a provider's own statement (CSV or JSON lines) for reconciliation.

The upload is first written to a temporary file; :func:`detect_encoding` reads it once (strict
UTF-8, with or without a BOM, else strict GBK, else refused) and :func:`parse_lines` reads it
again line by line, yielding each good line or a :class:`LineError` naming its line number.
Nothing here holds more than one line in memory; duplicate order ids are found afterwards by the
database (see ``reconciliation.imports``), not by a Python set of every order id.

CSV: a header ``order_id,amount,occurred_at`` (any order), then one line per order. JSON lines:
one object per line with those keys. ``amount`` is a positive integer number of fen;
``occurred_at`` is ISO 8601 (a time without an offset is Beijing time).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from voucher_service.exports.columns import SHANGHAI
from voucher_service.reconciliation.errors import (
    StatementEmpty,
    StatementEncodingUnsupported,
    StatementHeaderInvalid,
)

ENCODINGS = ("utf-8-sig", "gbk")
READ_BYTES = 1 << 20
MAX_LINE_CHARS = 4096
MAX_ORDER_ID = 128
FIELDS = ("order_id", "amount", "occurred_at")
Format = Literal["csv", "jsonl"]


class StatementLine(NamedTuple):
    # A named tuple, not a frozen dataclass: a million of them are made per statement.
    line_no: int
    order_id: str
    amount: int
    occurred_at: datetime


class LineError(NamedTuple):
    line_no: int
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Period:
    """[starts_at, ends_at) in UTC."""

    starts_at: datetime
    ends_at: datetime


class _BadLine(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` if the whole file is valid UTF-8, else ``gbk`` if valid GBK, else refuse."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as upload:
                while chunk := upload.read(READ_BYTES):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise StatementEncodingUnsupported(
        "The statement is neither UTF-8 nor GBK text.",
        detail_zh="对账单既不是 UTF-8 也不是 GBK 编码的文本。",
    )


def _physical_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding=encoding, newline="") as text:
        line_no = 0
        while True:
            line = text.readline(MAX_LINE_CHARS + 1)
            if not line:
                return
            line_no += 1
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                while line and not line.endswith("\n"):  # skip the rest of an overlong line
                    line = text.readline(MAX_LINE_CHARS)
                yield line_no, "\x00overlong"
                continue
            yield line_no, line.rstrip("\r\n")


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _BadLine("amount_not_integer", "amount must be an integer number of fen")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit() or not text.isascii():
            raise _BadLine("amount_not_integer", "amount must be an integer number of fen")
        value = int(text)
    assert isinstance(value, int)  # noqa: S101 - for the type checker
    if value <= 0:
        raise _BadLine("amount_not_positive", "amount must be more than zero")
    if value > 2**62:
        raise _BadLine("amount_too_large", "amount is too large")
    return value


def _occurred_at(value: Any, period: Period, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise _BadLine("occurred_at_invalid", "occurred_at is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    if moment > now:
        raise _BadLine("occurred_at_in_future", "occurred_at is in the future")
    if not period.starts_at <= moment < period.ends_at:
        raise _BadLine("occurred_at_outside_period", "occurred_at is outside the period")
    return moment


def _order_id(value: Any) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _BadLine("order_id_invalid", "order_id must be text")
    text = str(value).strip()
    if not text or len(text) > MAX_ORDER_ID:
        raise _BadLine("order_id_invalid", f"order_id must be 1 to {MAX_ORDER_ID} characters")
    return text


def _record(
    line_no: int, values: tuple[Any, Any, Any], period: Period, now: datetime
) -> StatementLine | LineError:
    """A line from its order_id, amount and occurred_at values, or the reason it is bad."""
    try:
        return StatementLine(
            line_no, _order_id(values[0]), _amount(values[1]), _occurred_at(values[2], period, now)
        )
    except _BadLine as bad:
        return LineError(line_no, bad.code, bad.detail)


def _json_values(line: str) -> tuple[Any, Any, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise _BadLine("line_malformed", "not a JSON object") from None
    if not isinstance(value, dict):
        raise _BadLine("line_malformed", "not a JSON object")
    if len(value) != len(FIELDS) or not all(name in value for name in FIELDS):
        raise _BadLine("line_malformed", "expected order_id, amount and occurred_at")
    return value["order_id"], value["amount"], value["occurred_at"]


def _csv_order(line: str) -> list[int]:
    """Where order_id, amount and occurred_at are in the header line (any order)."""
    header = [name.strip().lower() for name in next(csv.reader([line]))]
    if sorted(header) != sorted(FIELDS):
        raise StatementHeaderInvalid(
            "The first line must name the columns order_id, amount and occurred_at.",
            detail_zh="第一行须为列名 order_id、amount、occurred_at。",
        )
    return [header.index(name) for name in FIELDS]


def parse_lines(
    path: Path, encoding: str, period: Period, now: datetime
) -> Iterator[StatementLine | LineError]:
    """Every non-blank line of the statement, parsed, or the reason it is bad."""
    lines: Iterator[tuple[int, str]] = (
        (no, line) for no, line in _physical_lines(path, encoding) if line.strip()
    )
    first = next(lines, None)
    if first is None:
        raise StatementEmpty("The statement has no lines.", detail_zh="对账单没有任何内容。")
    order: list[int] | None = None
    if first[1].lstrip().startswith("{"):
        lines = _chain(first, lines)
    else:
        order = _csv_order(first[1])
    for line_no, line in lines:
        try:
            if line == "\x00overlong":
                raise _BadLine("line_too_long", f"line longer than {MAX_LINE_CHARS} characters")
            values = _json_values(line) if order is None else _csv_values(order, line)
        except _BadLine as bad:
            yield LineError(line_no, bad.code, bad.detail)
            continue
        yield _record(line_no, values, period, now)


def _csv_values(order: list[int], line: str) -> tuple[Any, Any, Any]:
    if '"' in line or "\x00" in line:  # quoting (or a NUL): the csv module's rules
        try:
            values = next(csv.reader([line]))
        except csv.Error:
            raise _BadLine("line_malformed", "not a CSV line") from None
    else:  # the common case, the same split without building a reader per line
        values = line.split(",")
    if len(values) != len(order):
        raise _BadLine("line_malformed", f"expected {len(order)} fields, found {len(values)}")
    return values[order[0]], values[order[1]], values[order[2]]


def _chain(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield first
    yield from rest
