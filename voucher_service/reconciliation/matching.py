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
    """Every line repeating an earlier line's order id becomes an error.

    One aggregate finds the repeated order ids and their first line, so the statement is read
    twice in all (hash aggregate, then a join), not probed once per line."""
    staged = line.c.reconciliation_id == reconciliation_id
    repeated = (
        sa.select(line.c.order_id, sa.func.min(line.c.line_no).label("first"))
        .where(staged)
        .group_by(line.c.order_id)
        .having(sa.func.count() > 1)
        .subquery("repeated")
    )
    repeats = (
        sa.select(
            line.c.reconciliation_id,
            line.c.line_no,
            sa.literal("order_id_duplicate"),
            sa.literal("order_id already on an earlier line"),
        )
        .join(repeated, repeated.c.order_id == line.c.order_id)
        .where(staged, line.c.line_no > repeated.c.first)
    )
    columns = ["reconciliation_id", "line_no", "code", "detail"]
    await session.execute(sa.insert(ReconciliationError).from_select(columns, repeats))


def _in_period(period: tuple[datetime, datetime]) -> sa.ColumnElement[bool]:
    """A captured redemption of the period: the ones the statement is checked against."""
    return sa.and_(
        redemption.c.status == RedemptionStatus.captured.value,
        redemption.c.captured_at >= period[0],
        redemption.c.captured_at < period[1],
    )


def _provider_redemptions(provider_id: uuid.UUID, period: tuple[datetime, datetime]) -> sa.Subquery:
    """Every redemption of the provider: id, order id, net amount, whether it is of the period."""
    net = (redemption.c.captured_amount - redemption.c.refunded_amount).label("amount")
    ours = sa.case((_in_period(period), True), else_=False).label("ours")
    return (
        sa.select(redemption.c.id, redemption.c.order_id, net, ours)
        .where(redemption.c.provider_id == provider_id)
        .subquery("known")
    )


async def record_differences(
    session: AsyncSession, report: Reconciliation, period: tuple[datetime, datetime]
) -> None:
    """Insert every difference between the staged statement and our redemptions, each with the
    provider's redemption of that order id (of any period or status) when there is one.

    One outer join of the statement with the provider's redemptions finds both the missing and
    the mismatched lines; one anti join finds our redemptions the statement lacks."""
    known = _provider_redemptions(report.provider_id, period)
    theirs = sa.select(line).where(line.c.reconciliation_id == report.id).subquery("theirs")
    columns = ["reconciliation_id", "order_id", "kind", "their_amount", "our_amount", "line_no"]
    columns.append("redemption_id")
    report_id = sa.literal(report.id, sa.Uuid)
    ours = known.c.ours.is_(True)
    on_theirs = (
        sa.select(
            report_id,
            theirs.c.order_id,
            sa.case(
                (ours, DifferenceKind.amount_mismatch.value),
                else_=DifferenceKind.missing_ours.value,
            ),
            theirs.c.amount,
            sa.case((ours, known.c.amount), else_=None),
            theirs.c.line_no,
            known.c.id,
        )
        .select_from(theirs.join(known, known.c.order_id == theirs.c.order_id, isouter=True))
        .where(sa.or_(known.c.id.is_(None), ~ours, known.c.amount != theirs.c.amount))
    )
    insert = sa.insert(ReconciliationDifference)
    await session.execute(insert.from_select(columns, on_theirs))
    only_ours = sa.select(
        report_id,
        redemption.c.order_id,
        sa.literal(DifferenceKind.missing_theirs.value),
        sa.null(),
        redemption.c.captured_amount - redemption.c.refunded_amount,
        sa.null(),
        redemption.c.id,
    ).where(
        redemption.c.provider_id == report.provider_id,
        _in_period(period),
        ~sa.select(theirs.c.line_no).where(theirs.c.order_id == redemption.c.order_id).exists(),
    )
    await session.execute(insert.from_select(columns, only_ours))


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
