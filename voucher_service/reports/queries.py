"""The report queries: each one ``GROUP BY`` in the database, rows streamed out in batches.

Months are Beijing months (UTC + 8 hours): ``to_char`` on PostgreSQL, ``strftime`` on SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from voucher_service.applications.models import Application
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation
from voucher_service.programs.models import Program
from voucher_service.redemptions.models import Redemption, RedemptionStatus
from voucher_service.settlements.sources import period_bounds
from voucher_service.vouchers.models import Voucher


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC, from Beijing dates; open ends allowed."""

    since: datetime | None
    until: datetime | None

    @classmethod
    def of(cls, since_on: date | None, until_on: date | None) -> Period:
        since = period_bounds(since_on, since_on)[0] if since_on else None
        until = period_bounds(until_on, until_on)[1] if until_on else None
        return cls(since, until)

    def where(self, column: Any) -> list[sa.ColumnElement[bool]]:
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions


def month_of(column: Any, dialect: str) -> sa.ColumnElement[str]:
    """The Beijing month ``YYYY-MM`` of a UTC timestamp column."""
    if dialect == "postgresql":
        local = sa.func.timezone("Asia/Shanghai", column)
        return sa.func.to_char(local, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column, "+8 hours")


async def applications_by_state(
    session: AsyncSession, program_id: uuid.UUID, period: Period
) -> dict[str, int]:
    query = (
        sa.select(col(Application.state), sa.func.count())
        .where(col(Application.program_id) == program_id, *period.where(Application.created_at))
        .group_by(col(Application.state))
    )
    return {row[0]: int(row[1]) for row in await session.execute(query)}


async def decision_times(
    session: AsyncSession, program_id: uuid.UUID, period: Period
) -> list[float]:
    """Days from submission to decision of the decided applications (for averages)."""
    query = sa.select(col(Application.submitted_at), col(Application.decided_at)).where(
        col(Application.program_id) == program_id,
        col(Application.decided_at).is_not(None),
        col(Application.submitted_at).is_not(None),
        *period.where(Application.decided_at),
    )
    return [
        (decided - submitted).total_seconds() / 86400
        for submitted, decided in await session.execute(query)
        if decided is not None and submitted is not None
    ]


async def vouchers_by_state(
    session: AsyncSession, program_id: uuid.UUID, period: Period
) -> dict[str, tuple[int, int]]:
    query = (
        sa.select(col(Voucher.state), sa.func.count(), sa.func.sum(col(Voucher.issued_amount)))
        .where(col(Voucher.program_id) == program_id, *period.where(Voucher.created_at))
        .group_by(col(Voucher.state))
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in await session.execute(query)}


def redemptions_by_provider_query(program_id: uuid.UUID, period: Period, dialect: str) -> Any:
    month = month_of(col(Redemption.captured_at), dialect).label("month")
    return (
        sa.select(
            col(Redemption.provider_id).label("provider_id"),
            col(Organisation.name).label("provider_name"),
            month,
            sa.func.count().label("redemption_count"),
            sa.func.sum(col(Redemption.captured_amount)).label("captured_amount"),
            sa.func.sum(col(Redemption.refunded_amount)).label("refunded_amount"),
        )
        .join(Organisation, col(Organisation.id) == col(Redemption.provider_id))
        .where(
            col(Redemption.program_id) == program_id,
            col(Redemption.status) == RedemptionStatus.captured.value,
            *period.where(Redemption.captured_at),
        )
        .group_by(col(Redemption.provider_id), col(Organisation.name), month)
        .order_by(month, col(Organisation.name))
    )


def top_enterprises_query(program_id: uuid.UUID, period: Period, limit: int) -> Any:
    return (
        sa.select(
            col(Voucher.holder_id).label("enterprise_id"),
            col(Organisation.name).label("enterprise_name"),
            sa.func.count().label("voucher_count"),
            sa.func.sum(col(Voucher.issued_amount)).label("awarded_amount"),
        )
        .join(Organisation, col(Organisation.id) == col(Voucher.holder_id))
        .where(col(Voucher.program_id) == program_id, *period.where(Voucher.created_at))
        .group_by(col(Voucher.holder_id), col(Organisation.name))
        .order_by(sa.func.sum(col(Voucher.issued_amount)).desc(), col(Voucher.holder_id))
        .limit(limit)
    )


def burn_down_queries(program_id: uuid.UUID, dialect: str) -> tuple[Any, Any]:
    """Awarded per month (vouchers issued) and spent per month (captured minus refunded)."""
    issued_month = month_of(col(Voucher.created_at), dialect).label("month")
    issued = (
        sa.select(issued_month, sa.func.sum(col(Voucher.issued_amount)))
        .where(col(Voucher.program_id) == program_id)
        .group_by(issued_month)
    )
    spent_month = month_of(col(Redemption.captured_at), dialect).label("month")
    spent = (
        sa.select(
            spent_month,
            sa.func.sum(col(Redemption.captured_amount) - col(Redemption.refunded_amount)),
        )
        .where(
            col(Redemption.program_id) == program_id,
            col(Redemption.status) == RedemptionStatus.captured.value,
        )
        .group_by(spent_month)
    )
    return issued, spent


def open_data_query(program_id: uuid.UUID | None) -> Any:
    """Awards as published in the publicity list: organisations only, no personal data."""
    query: Any = (
        sa.select(
            col(Program.name).label("program_name"),
            col(Program.fiscal_year).label("fiscal_year"),
            col(Organisation.name).label("enterprise_name"),
            col(Organisation.credit_code).label("credit_code"),
            col(Voucher.issued_amount).label("awarded_amount"),
            col(Voucher.created_at).label("awarded_at"),
            col(Voucher.id).label("voucher_id"),
        )
        .join(Program, col(Program.id) == col(Voucher.program_id))
        .join(Organisation, col(Organisation.id) == col(Voucher.holder_id))
    )
    if program_id is not None:
        query = query.where(col(Voucher.program_id) == program_id)
    return query


async def stream(
    database: Database, query: sa.Select[Any], key: Any, batch: int = 2000
) -> AsyncIterator[dict[str, Any]]:
    """Rows of ``query`` in batches keyed on the unique, ordered ``key`` column."""
    after = None
    while True:
        page = query.order_by(key).limit(batch)
        if after is not None:
            page = page.where(key > after)
        async with database.unit_of_work(readonly=True) as session:
            rows = [dict(row._mapping) for row in await session.execute(page)]
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1][key.key]
