"""Folding hot-account deltas into their account rows (run by a worker job).

Reads are exact without folding (they add the deltas); folding keeps the delta table short so
those reads, and the fold a debit on a hot account does first, stay cheap.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import InvalidRequest
from ledger.models import balance_delta
from ledger.posting.balances import fold_account


async def fold_hot_accounts(session: AsyncSession, *, max_accounts: int = 100) -> int:
    """Fold the deltas of up to ``max_accounts`` accounts, in id order; returns deltas folded."""
    if max_accounts < 1:
        raise InvalidRequest("max_accounts must be positive")
    connection = await session.connection()
    with_deltas = (
        sa.select(balance_delta.c.account_id)
        .distinct()
        .order_by(balance_delta.c.account_id)
        .limit(max_accounts)
    )
    folded = 0
    for account_id in list((await connection.execute(with_deltas)).scalars()):
        folded += await fold_account(connection, account_id)
    return folded
