"""Parsing a provider's statement: encodings, both formats, every bad line named by number."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from voucher_service.reconciliation.errors import (
    StatementEmpty,
    StatementEncodingUnsupported,
    StatementHeaderInvalid,
)
from voucher_service.reconciliation.statements import (
    LineError,
    Period,
    StatementLine,
    detect_encoding,
    parse_lines,
)

PERIOD = Period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
NOW = datetime(2026, 11, 15, tzinfo=UTC)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "statement"
    path.write_bytes(data)
    return path


def parse(path: Path) -> list[StatementLine | LineError]:
    return list(parse_lines(path, detect_encoding(path), PERIOD, NOW))


def test_utf8_with_bom_csv_any_column_order(tmp_path: Path) -> None:
    text = (
        "amount,order_id,occurred_at\r\n1200,订单-1,2026-10-02T10:00:00+08:00\r\n"
        "\r\n5,A2,2026-10-31T23:00:00\n"
    )
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode())
    assert detect_encoding(path) == "utf-8-sig"
    first, second = parse(path)
    assert first == StatementLine(2, "订单-1", 1200, datetime(2026, 10, 2, 2, tzinfo=UTC))
    assert isinstance(second, StatementLine) and second.line_no == 4
    assert second.occurred_at == datetime(2026, 10, 31, 15, tzinfo=UTC)  # Beijing time


def test_gbk_is_detected(tmp_path: Path) -> None:
    text = "order_id,amount,occurred_at\n算力-1,100,2026-10-05T00:00:00Z\n"
    path = write(tmp_path, text.encode("gbk"))
    assert detect_encoding(path) == "gbk"
    [line] = parse(path)
    assert isinstance(line, StatementLine) and line.order_id == "算力-1"


def test_other_encodings_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "order_id,amount\n€".encode("utf-16"))
    with pytest.raises(StatementEncodingUnsupported):
        detect_encoding(path)


def test_json_lines(tmp_path: Path) -> None:
    lines = [
        {"order_id": "A", "amount": 10, "occurred_at": "2026-10-03T00:00:00Z"},
        {"order_id": "B", "amount": 10.5, "occurred_at": "2026-10-03T00:00:00Z"},
        {"order_id": "C", "amount": 10},
    ]
    path = write(tmp_path, "\n".join(json.dumps(line) for line in lines).encode() + b"\n[1]")
    good, *bad = parse(path)
    assert isinstance(good, StatementLine)
    assert [(e.line_no, e.code) for e in bad if isinstance(e, LineError)] == [
        (2, "amount_not_integer"),
        (3, "line_malformed"),
        (4, "line_malformed"),
    ]


def test_every_bad_line_is_named(tmp_path: Path) -> None:
    text = (
        "order_id,amount,occurred_at\n"
        "ok,1,2026-10-01T00:00:00Z\n"
        "neg,-5,2026-10-02T00:00:00Z\n"
        "zero,0,2026-10-02T00:00:00Z\n"
        "frac,1.5,2026-10-02T00:00:00Z\n"
        "future,1,2026-12-01T00:00:00Z\n"
        "before,1,2026-09-30T15:59:59Z\n"
        "when,1,yesterday\n"
        "short,1\n"
        ",1,2026-10-02T00:00:00Z\n"
        '"unclosed,1,2026-10-02T00:00:00Z\n' + "x" * 5000 + "\n"
    )
    results = parse(write(tmp_path, text.encode()))
    errors = [(e.line_no, e.code) for e in results if isinstance(e, LineError)]
    assert errors == [
        (3, "amount_not_positive"),
        (4, "amount_not_positive"),
        (5, "amount_not_integer"),
        (6, "occurred_at_in_future"),
        (7, "occurred_at_outside_period"),
        (8, "occurred_at_invalid"),
        (9, "line_malformed"),
        (10, "order_id_invalid"),
        (11, "line_malformed"),
        (12, "line_too_long"),
    ]


def test_a_wrong_header_or_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementHeaderInvalid):
        parse(write(tmp_path, b"id,amount,time\n1,2,3\n"))
    with pytest.raises(StatementEmpty):
        parse(write(tmp_path, b"\n\n"))


@pytest.mark.slow
def test_a_large_statement_is_parsed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("order_id,amount,occurred_at\n")
        for number in range(100_000):
            out.write(f"order-{number},{number + 1},2026-10-10T00:00:00Z\n")
    tracemalloc.start()
    try:
        count = sum(1 for line in parse_lines(path, detect_encoding(path), PERIOD, NOW))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 5 * 1024 * 1024
