"""Import a provider's statement and reconcile it with our redemptions, all in one unit of work.

Either the whole statement is accepted and matched, or it is rejected and the stored report lists
every bad line (line number, code); no line of a rejected statement stays in the database.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ledger.sqltypes import utcnow
from providers.webhooks import emit
from voucher_service.exports.columns import SHANGHAI
from voucher_service.reconciliation import matching
from voucher_service.reconciliation.errors import ReconciliationNotFound, StatementPeriodInvalid
from voucher_service.reconciliation.models import (
    Reconciliation,
    ReconciliationError,
    ReconciliationLine,
    ReconciliationStatus,
)
from voucher_service.reconciliation.statements import (
    LineError,
    Period,
    StatementLine,
    detect_encoding,
    parse_lines,
)
from voucher_service.settlements.sources import period_bounds

BATCH = 5000
WORK_MEM = "128MB"


def check_period(start_on: date, end_on: date) -> Period:
    """The period as UTC bounds; it must have started and end on or after its start."""
    today = utcnow().astimezone(SHANGHAI).date()
    if end_on < start_on or start_on > today:
        raise StatementPeriodInvalid(
            "The period must start no later than today and end on or after its start.",
            detail_zh="对账期间须不晚于今天开始，且结束日不早于开始日。",
        )
    return Period(*period_bounds(start_on, end_on))


async def bulk_insert(session: AsyncSession, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows (in ``table``'s column order): COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    columns = [column.name for column in table.columns]
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table.name, records=rows, columns=columns)
        return
    await session.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


async def _hash_joins_in_memory(session: AsyncSession) -> None:
    """On PostgreSQL, room for the matching's hash joins of a million-line statement (about 60 MB,
    this transaction only) so they do not spill to disk in batches."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(sa.text(f"SET LOCAL work_mem = '{WORK_MEM}'"))


def _next_batch(lines: Iterator[StatementLine | LineError]) -> list[StatementLine | LineError]:
    return list(itertools.islice(lines, BATCH))


async def _stage(session: AsyncSession, report: Reconciliation, path: Path, period: Period) -> int:
    """Parse the file a batch at a time (in a thread), write good lines and errors; count.

    The next batch is parsed while the database stores the current one, so the parsing and
    the COPY use a core each."""
    lines = parse_lines(path, report.encoding, period, utcnow())
    count = 0
    parsing = asyncio.ensure_future(asyncio.to_thread(_next_batch, lines))
    try:
        while batch := await parsing:
            parsing = asyncio.ensure_future(asyncio.to_thread(_next_batch, lines))
            count += len(batch)
            await _store(session, report, batch)
    finally:
        parsing.cancel()
    return count


async def _store(
    session: AsyncSession, report: Reconciliation, batch: list[StatementLine | LineError]
) -> None:
    good = [
        (report.id, item.line_no, item.order_id, item.amount)
        for item in batch
        if isinstance(item, StatementLine)
    ]
    bad = [
        (report.id, item.line_no, item.code, item.detail)
        for item in batch
        if isinstance(item, LineError)
    ]
    await bulk_insert(session, ReconciliationLine.__table__, good)  # type: ignore[attr-defined]
    await bulk_insert(session, ReconciliationError.__table__, bad)  # type: ignore[attr-defined]


async def _count_errors(session: AsyncSession, report: Reconciliation) -> int:
    query = sa.select(sa.func.count()).where(
        col(ReconciliationError.reconciliation_id) == report.id
    )
    return int(await session.scalar(query) or 0)


async def reconcile(
    session: AsyncSession,
    path: Path,
    provider_id: uuid.UUID,
    period_on: tuple[date, date],
    uploaded_by: uuid.UUID | None,
) -> Reconciliation:
    """Check the statement at ``path`` and, if every line is good, match it; store the report."""
    period = check_period(*period_on)
    encoding = await asyncio.to_thread(detect_encoding, path)
    report = Reconciliation(
        provider_id=provider_id,
        period_start_on=period_on[0],
        period_end_on=period_on[1],
        status=ReconciliationStatus.rejected,
        encoding=encoding,
        uploaded_by_id=uploaded_by,
    )
    session.add(report)
    await session.flush()
    await _hash_joins_in_memory(session)
    line_count = await _stage(session, report, path, period)
    await matching.record_duplicates(session, report.id)
    report.error_count = await _count_errors(session, report)
    if report.error_count == 0:
        await matching.record_differences(session, report, (period.starts_at, period.ends_at))
        await matching.fill_totals(session, report)
        differences = report.missing_ours_count + report.missing_theirs_count
        differences += report.mismatch_count
        report.status = (
            ReconciliationStatus.discrepancies if differences else ReconciliationStatus.matched
        )
        _notify(session, report)
    report.line_count = line_count
    await session.execute(
        sa.delete(ReconciliationLine).where(col(ReconciliationLine.reconciliation_id) == report.id)
    )
    report.completed_at = utcnow()
    await session.flush()
    return report


def _notify(session: AsyncSession, report: Reconciliation) -> None:
    emit(
        session,
        report.provider_id,
        "reconciliation.completed",
        {
            "reconciliation_id": report.id,
            "period_start_on": report.period_start_on,
            "period_end_on": report.period_end_on,
            "status": report.status,
            "matched_count": report.matched_count,
            "discrepancy_count": report.missing_ours_count
            + report.missing_theirs_count
            + report.mismatch_count,
        },
    )


async def get(
    session: AsyncSession, reconciliation_id: uuid.UUID, provider_id: uuid.UUID | None = None
) -> Reconciliation:
    """A stored report (of ``provider_id`` when given: another's is not found)."""
    report = await session.get(Reconciliation, reconciliation_id)
    if report is None or (provider_id is not None and report.provider_id != provider_id):
        raise ReconciliationNotFound()
    return report
