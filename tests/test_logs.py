from __future__ import annotations

import json
import logging

from voucher_service.kit.context import current_request_id
from voucher_service.logs import JsonFormatter, TextFormatter, _RequestIdFilter


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("voucher_service.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    _RequestIdFilter().filter(record)
    return record


def test_json_lines_carry_request_id_and_extras() -> None:
    token = current_request_id.set("req-12345678")
    try:
        line = JsonFormatter().format(_record("redeemed", voucher="V-1", amount=100))
    finally:
        current_request_id.reset(token)
    entry = json.loads(line)
    assert entry["msg"] == "redeemed"
    assert entry["request_id"] == "req-12345678"
    assert (entry["voucher"], entry["amount"], entry["level"]) == ("V-1", 100, "info")


def test_text_lines_are_readable() -> None:
    token = current_request_id.set("req-12345678")
    try:
        line = TextFormatter().format(_record("redeemed", amount=100))
    finally:
        current_request_id.reset(token)
    assert "[req-12345678] redeemed  amount=100" in line
