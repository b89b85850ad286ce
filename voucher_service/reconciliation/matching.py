"""The SQL that checks a staged statement: duplicate order ids, then the outer join by order id
against the provider's captured redemptions of the period, written as differences and totals.
Nothing is read into Python but counts and sums."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from voucher_service.reconciliation.models import (
    DifferenceKind,
    Reconciliation,
    ReconciliationDifference,
    ReconciliationError,
    ReconciliationLine,
)
from voucher_service.redemptions.models import Redemption, RedemptionStatus

line = ReconciliationLine.__table__  # type: ignore[attr-defined]
redemption = Redemption.__table__  # type: ignore[attr-defined]


async def record_duplicates(session: AsyncSession, reconciliation_id: uuid.UUID) -> None:
    """Every line repeating an earlier line's order id becomes an error."""
    earlier = line.alias("earlier")
    repeats = sa.select(
        line.c.reconciliation_id,
        line.c.line_no,
        sa.literal("order_id_duplicate"),
        sa.literal("order_id already on an earlier line"),
    ).where(
        line.c.reconciliation_id == reconciliation_id,
        sa.select(earlier.c.line_no)
        .where(
            earlier.c.reconciliation_id == reconciliation_id,
            earlier.c.order_id == line.c.order_id,
            earlier.c.line_no < line.c.line_no,
        )
        .exists(),
    )
    columns = ["reconciliation_id", "line_no", "code", "detail"]
    await session.execute(sa.insert(ReconciliationError).from_select(columns, repeats))


def _ours(provider_id: uuid.UUID, period: tuple[datetime, datetime]) -> sa.Subquery:
    net = (redemption.c.captured_amount - redemption.c.refunded_amount).label("amount")
    return (
        sa.select(redemption.c.id, redemption.c.order_id, net)
        .where(
            redemption.c.provider_id == provider_id,
            redemption.c.status == RedemptionStatus.captured.value,
            redemption.c.captured_at >= period[0],
            redemption.c.captured_at < period[1],
        )
        .subquery("ours")
    )


async def record_differences(
    session: AsyncSession, report: Reconciliation, period: tuple[datetime, datetime]
) -> None:
    """Insert every difference between the staged statement and our redemptions."""
    ours = _ours(report.provider_id, period)
    theirs = sa.select(line).where(line.c.reconciliation_id == report.id).subquery("theirs")
    columns = ["reconciliation_id", "order_id", "kind", "their_amount", "our_amount", "line_no"]
    report_id = sa.literal(report.id, sa.Uuid)
    joined = theirs.join(ours, ours.c.order_id == theirs.c.order_id, isouter=True)
    on_theirs = (
        sa.select(
            report_id,
            theirs.c.order_id,
            sa.case(
                (ours.c.id.is_(None), DifferenceKind.missing_ours.value),
                else_=DifferenceKind.amount_mismatch.value,
            ),
            theirs.c.amount,
            ours.c.amount,
            theirs.c.line_no,
        )
        .select_from(joined)
        .where(sa.or_(ours.c.id.is_(None), ours.c.amount != theirs.c.amount))
    )
    insert = sa.insert(ReconciliationDifference)
    await session.execute(insert.from_select(columns, on_theirs))
    only_ours = sa.select(
        report_id,
        ours.c.order_id,
        sa.literal(DifferenceKind.missing_theirs.value),
        sa.null(),
        ours.c.amount,
        sa.null(),
    ).where(~sa.select(theirs.c.line_no).where(theirs.c.order_id == ours.c.order_id).exists())
    await session.execute(insert.from_select(columns, only_ours))
    await _add_redemption_ids(session, report)


async def _add_redemption_ids(session: AsyncSession, report: Reconciliation) -> None:
    difference = ReconciliationDifference.__table__  # type: ignore[attr-defined]
    matching = (
        sa.select(redemption.c.id)
        .where(
            redemption.c.provider_id == report.provider_id,
            redemption.c.order_id == difference.c.order_id,
        )
        .scalar_subquery()
    )
    await session.execute(
        sa.update(difference)
        .where(difference.c.reconciliation_id == report.id)
        .values(redemption_id=matching)
    )


async def fill_totals(session: AsyncSession, report: Reconciliation) -> None:
    """Counts and sums by kind of difference; matched = statement lines without a difference."""
    query = (
        sa.select(
            col(ReconciliationDifference.kind),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(col(ReconciliationDifference.their_amount)), 0),
            sa.func.coalesce(sa.func.sum(col(ReconciliationDifference.our_amount)), 0),
        )
        .where(col(ReconciliationDifference.reconciliation_id) == report.id)
        .group_by(col(ReconciliationDifference.kind))
    )
    by_kind: dict[str, tuple[int, int, int]] = {
        row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0))
        for row in await session.execute(query)
    }
    none = (0, 0, 0)
    report.missing_ours_count, report.missing_ours_amount, _ = by_kind.get("missing_ours", none)
    report.missing_theirs_count, _, report.missing_theirs_amount = by_kind.get(
        "missing_theirs", none
    )
    mismatch = by_kind.get("amount_mismatch", none)
    report.mismatch_count, report.mismatch_their_amount, report.mismatch_our_amount = mismatch
    statement = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(line.c.amount), 0)).where(
                line.c.reconciliation_id == report.id
            )
        )
    ).one()
    report.line_count, report.statement_amount = int(statement[0]), int(statement[1])
    report.matched_count = report.line_count - report.missing_ours_count - report.mismatch_count
    report.matched_amount = (
        report.statement_amount - report.missing_ours_amount - report.mismatch_their_amount
    )
