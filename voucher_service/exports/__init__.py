"""Streamed CSV and XLSX exports of any async iterator of rows (constant memory)."""

from voucher_service.exports.columns import Column, amount_yuan, local_time, money
from voucher_service.exports.response import (
    EXPORT_CONTENT,
    ExportFormat,
    ExportOptions,
    ExportOptionsDep,
    export_response,
)
from voucher_service.exports.writers import safe_cell

__all__ = [
    "EXPORT_CONTENT",
    "Column",
    "ExportFormat",
    "ExportOptions",
    "ExportOptionsDep",
    "amount_yuan",
    "export_response",
    "local_time",
    "money",
    "safe_cell",
]
