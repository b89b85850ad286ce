"""Every redemption of a programme, one row each, streamed for the CSV/XLSX export.

Rows come from one server-side cursor in pages (constant memory however many), as plain rows
read by position; times are shown in Beijing time by ``exports.local_time``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from voucher_service.db import Database
from voucher_service.exports import Column, money
from voucher_service.organisations.models import Organisation
from voucher_service.redemptions.models import Redemption
from voucher_service.reports.queries import Period

PAGE = 5_000

COLUMNS = [
    Column("id", "核销编号", "Redemption id"),
    Column("order_id", "订单号", "Order id"),
    Column("provider_name", "服务商", "Provider"),
    Column("voucher_code", "券码", "Voucher code"),
    Column("status", "状态", "Status"),
    money("bill_amount", "账单金额（元）", "Bill (CNY)"),
    money("covered_amount", "券抵扣金额（元）", "Covered (CNY)"),
    money("captured_amount", "已扣款金额（元）", "Captured (CNY)"),
    money("refunded_amount", "已退款金额（元）", "Refunded (CNY)"),
    money("enterprise_payable_amount", "企业自付金额（元）", "Enterprise share (CNY)"),
    Column("created_at", "发起时间", "Created at"),
    Column("captured_at", "扣款时间", "Captured at"),
]


def query(program_id: uuid.UUID, period: Period) -> sa.Select[Any]:
    """The programme's redemptions created in ``period``, oldest first."""
    redemption = Redemption.__table__  # type: ignore[attr-defined]
    provider = Organisation.__table__  # type: ignore[attr-defined]
    return (
        sa.select(
            redemption.c.id,
            redemption.c.order_id,
            provider.c.name.label("provider_name"),
            redemption.c.voucher_code,
            redemption.c.status,
            redemption.c.bill_amount,
            redemption.c.covered_amount,
            redemption.c.captured_amount,
            redemption.c.refunded_amount,
            redemption.c.enterprise_payable_amount,
            redemption.c.created_at,
            redemption.c.captured_at,
        )
        .join(provider, provider.c.id == redemption.c.provider_id)
        .where(redemption.c.program_id == program_id, *period.where(redemption.c.created_at))
        .order_by(redemption.c.id)
    )


async def rows(database: Database, program_id: uuid.UUID, period: Period) -> AsyncIterator[Any]:
    """The rows of ``query``, page by page from one read-only unit of work."""
    statement = query(program_id, period).execution_options(yield_per=PAGE)
    async with database.unit_of_work(readonly=True) as session:
        result = await session.stream(statement)
        async for page in result.partitions():
            for row in page:
                yield row
