"""Column definitions of an export: bilingual headers and how a value becomes a cell.

Amounts are fen in the API and yuan with two decimals in exports; times are shown in
Asia/Shanghai, as the portal shows them.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from voucher_service.kit.i18n import Language

SHANGHAI = ZoneInfo("Asia/Shanghai")
Cell = str | int | None


def amount_yuan(fen: int | None) -> str | None:
    """Fen as yuan with two decimals, exactly (no floats): ``-1234`` → ``"-12.34"``."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan}.{cents:02d}"


def local_time(value: datetime | None) -> str | None:
    """A UTC timestamp shown in Asia/Shanghai, to the second."""
    if value is None:
        return None
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def plain(value: Any) -> Cell:
    """Any other value as a cell: dates ISO, mappings as JSON, enums by value."""
    if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
        return value
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(getattr(value, "value", value))


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the row's key (or attribute), its headers, and how to render its value."""

    key: str
    header_zh: str
    header_en: str
    render: Callable[[Any], Cell] = plain
    money: bool = False

    def header(self, language: Language) -> str:
        return self.header_zh if language == "zh" else self.header_en

    def value(self, row: Any) -> Any:
        return row.get(self.key) if isinstance(row, dict) else getattr(row, self.key, None)

    def cell(self, row: Any) -> Cell:
        return self.render(self.value(row))

    def getter(self, fields: Sequence[str] | None) -> Callable[[Any], Any]:
        """How to read this column's value from rows with these ``_fields`` (a named tuple or a
        SQLAlchemy row: by position, much cheaper than by name), or from any row."""
        if fields is not None and self.key in fields:
            return operator.itemgetter(list(fields).index(self.key))
        return self.value


def money(key: str, header_zh: str, header_en: str) -> Column:
    """A column of fen shown as yuan."""
    return Column(key, header_zh, header_en, amount_yuan, money=True)


def headers(columns: Sequence[Column], language: Language) -> list[str]:
    return [column.header(language) for column in columns]
