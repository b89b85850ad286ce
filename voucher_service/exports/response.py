"""``export_response``: any async iterator of rows as a streamed CSV or XLSX download.

The format comes from ``?format=csv|xlsx``; headers are Chinese unless ``?lang=en`` (or the
request's Accept-Language prefers English and no ``lang`` is given).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse

from voucher_service.exports.columns import Column
from voucher_service.exports.writers import csv_stream, xlsx_stream
from voucher_service.kit.i18n import Language, parse_accept_language

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@dataclass(frozen=True)
class ExportOptions:
    format: ExportFormat
    language: Language


async def _options(
    request: Request,
    format: Annotated[ExportFormat, Query(description="csv or xlsx")] = ExportFormat.csv,
    lang: Annotated[
        Language | None, Query(description="column headers: zh (default) or en")
    ] = None,
) -> ExportOptions:
    language = lang or parse_accept_language(request.headers.get("accept-language"), "zh")
    return ExportOptions(format, language)


ExportOptionsDep = Annotated[ExportOptions, Depends(_options)]

#: ``responses=`` entry documenting the two file types.
EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}},
        "description": "CSV (UTF-8 with BOM) or XLSX file",
    }
}


def export_response(
    columns: Sequence[Column],
    rows: AsyncIterable[Any],
    *,
    options: ExportOptions,
    filename: str,
) -> StreamingResponse:
    """Stream ``rows`` as ``filename.csv`` or ``filename.xlsx``; memory stays constant."""
    name = f"{filename}.{options.format.value}"
    disposition = f'attachment; filename="{name.encode("ascii", "replace").decode()}"; '
    disposition += f"filename*=UTF-8''{quote(name)}"
    headers = {"Content-Disposition": disposition}
    if options.format is ExportFormat.xlsx:
        body = xlsx_stream(columns, rows, options.language, filename)
        return StreamingResponse(body, media_type=XLSX_MEDIA_TYPE, headers=headers)
    body = csv_stream(columns, rows, options.language)
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers=headers)
