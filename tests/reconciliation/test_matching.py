"""The set-based matching: repeated order ids, and orders of the provider outside the period."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tests.reconciliation.test_reconciliation import TODAY, orders
from tests.redemptions.factories import create_seller
from voucher_service.exports.columns import SHANGHAI
from voucher_service.reconciliation import service
from voucher_service.reconciliation.models import ReconciliationDifference, ReconciliationError
from voucher_service.redemptions.models import Redemption

YESTERDAY = TODAY - timedelta(days=1)
AT = datetime.combine(YESTERDAY, time(12), SHANGHAI).isoformat()


def statement(tmp_path: Path, order_ids: list[str]) -> Path:
    path = tmp_path / "statement.csv"
    lines = "".join(f"{order},100000,{AT}\n" for order in order_ids)
    path.write_text("order_id,amount,occurred_at\n" + lines)
    return path


async def test_orders_outside_the_period_are_missing_ours_with_their_redemption(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, tmp_path: Path
) -> None:
    seller = await create_seller(app, client, session)
    ours = await orders(client, seller, session, 2)  # captured today: not of yesterday
    provider = seller.organisation.id
    path = statement(tmp_path, [*ours, "theirs-1"])
    report = await service.reconcile(session, path, provider, (YESTERDAY, YESTERDAY), None)
    found = await session.execute(
        sa.select(col(Redemption.order_id), col(Redemption.id)).where(
            col(Redemption.provider_id) == provider
        )
    )
    redemption_of = {row[0]: row[1] for row in found}
    differences = await session.execute(
        sa.select(
            col(ReconciliationDifference.order_id),
            col(ReconciliationDifference.kind),
            col(ReconciliationDifference.our_amount),
            col(ReconciliationDifference.redemption_id),
        ).where(col(ReconciliationDifference.reconciliation_id) == report.id)
    )
    assert sorted([tuple(row) for row in differences], key=str) == sorted(
        [(order, "missing_ours", None, redemption_of[order]) for order in ours]
        + [("theirs-1", "missing_ours", None, None)],
        key=str,
    )
    assert (report.matched_count, report.missing_ours_count, report.missing_theirs_count) == (
        0,
        3,
        0,
    )


async def test_every_repeat_of_an_order_id_is_an_error_but_its_first_line(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, tmp_path: Path
) -> None:
    seller = await create_seller(app, client, session)
    path = statement(tmp_path, ["A", "A", "B", "A", "B", "C"])
    report = await service.reconcile(
        session, path, seller.organisation.id, (YESTERDAY, YESTERDAY), None
    )
    errors = await session.execute(
        sa.select(col(ReconciliationError.line_no), col(ReconciliationError.code))
        .where(col(ReconciliationError.reconciliation_id) == report.id)
        .order_by(col(ReconciliationError.line_no))
    )
    assert [tuple(row) for row in errors] == [
        (3, "order_id_duplicate"),
        (5, "order_id_duplicate"),
        (6, "order_id_duplicate"),
    ]
    assert report.status == "rejected" and report.error_count == 3
