"""A streaming XLSX writer: one worksheet, its XML written row by row into a zip file.

openpyxl's write-only mode builds an XML element per cell and keeps every distinct string in a
shared-string table: about 100 µs a row and memory that grows with the rows. An export is
always the same simple sheet (text, whole numbers, amounts in yuan), so the sheet XML is
written here directly: strings inline (``t="inlineStr"``, no shared-string table, memory stays
flat), money as the exact decimal text of ``amount_yuan`` with the built-in ``0.00`` number
format. The few fixed parts of the package (content types, relationships, workbook, styles)
are constants. Readers (Excel, LibreOffice, openpyxl) read it as any other workbook.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

from voucher_service.exports.columns import Cell, Column

SHEET_PATH = "xl/worksheets/sheet1.xml"
MONEY_STYLE = 1  # cellXfs index with numFmtId 2, the built-in "0.00"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/{SHEET_PATH}" ContentType="{_OFFICE}.spreadsheetml.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _workbook(title: str) -> str:
    name = escape(_SHEET_TITLE_BAD.sub("_", title)[:31] or "Sheet1", {'"': "&quot;"})
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def text_cell(value: str) -> str:
    """A text cell: escaped, characters XML cannot carry dropped, spaces kept."""
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<c t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    return f'<c t="inlineStr"><is><t>{value}</t></is></c>'


def _money_cell(value: Cell) -> str:
    # amount_yuan's exact decimal text ("-12.34") is a valid xsd:double: no float round trip.
    if value is None:
        return "<c/>"
    return f'<c s="{MONEY_STYLE}"><v>{value}</v></c>'


def _plain_cell(value: Cell, safe: Callable[[object], str]) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, int):
        return f"<c><v>{value}</v></c>"
    return text_cell(safe(value))


def cell_writers(
    columns: Sequence[Column], safe: Callable[[object], str], fields: Sequence[str] | None
) -> list[Callable[[Any], str]]:
    """Per column, a function from a row (with these ``_fields``, if any) to its cell's XML."""

    def writer(column: Column) -> Callable[[Any], str]:
        value, render = column.getter(fields), column.render
        if column.money:
            return lambda row: _money_cell(render(value(row)))
        return lambda row: _plain_cell(render(value(row)), safe)

    return [writer(column) for column in columns]


class SheetWriter:
    """The package in ``target`` (a binary file); rows are appended as XML, then ``close()``."""

    def __init__(self, target: IO[bytes], title: str) -> None:
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", _workbook(title)),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            self._zip.writestr(name, text)
        self._sheet = self._zip.open(SHEET_PATH, "w", force_zip64=True)
        self._sheet.write(_SHEET_HEAD.encode())
        self._rows = 0

    def header(self, names: Iterable[str]) -> None:
        self.write(["".join(text_cell(name) for name in names)])

    def write(self, rows_xml: Iterable[str]) -> None:
        """Append rows, each given as the XML of its cells."""
        parts = []
        for cells in rows_xml:
            self._rows += 1
            parts.append(f'<row r="{self._rows}">{cells}</row>')
        self._sheet.write("".join(parts).encode())

    def close(self) -> None:
        self._sheet.write(_SHEET_TAIL.encode())
        self._sheet.close()
        self._zip.close()
