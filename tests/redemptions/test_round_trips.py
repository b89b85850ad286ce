"""The statements a captured redemption costs once its caller and accounts are known: a guard
against round trips creeping back onto the hot path (issue 6, bench/README.md)."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.redemptions.factories import Seller, redeem
from voucher_service.db import Database
from voucher_service.vouchers.models import Voucher

#: Idempotency claim, voucher with its binding, provider and price ceiling (one statement),
#: ledger transfer (one statement on PostgreSQL, four on SQLite), redemption, idempotency answer,
#: outbox, audit; and BEGIN IMMEDIATE on SQLite (PostgreSQL's BEGIN and COMMIT are not seen by
#: this listener).
MOST = {"postgresql": 7, "sqlite": 11}


async def test_a_repeated_redemption_reads_no_caller_account_or_rate_limit_row(
    client: httpx.AsyncClient,
    session: AsyncSession,
    seller: Seller,
    voucher: Voucher,
    database: Database,
) -> None:
    for _ in range(2):  # the first opens the provider's account, the second reads both
        assert (await redeem(client, seller, voucher, bill_amount=1_000)).status_code == 201
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        made = await redeem(client, seller, voucher, bill_amount=1_000)
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", seen)
    assert made.status_code == 201, made.text
    listing = "\n".join(statements)
    assert "api_client" not in listing  # the caller's principal is cached
    assert "rate_limit_bucket" not in listing  # counted in memory
    reads = [s for s in statements if s.startswith("SELECT ledger_account.id, ledger_account.code")]
    assert not reads  # the voucher's and the provider's ledger accounts are known
    assert len(statements) <= MOST[database.dialect], listing
