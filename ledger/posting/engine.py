"""The one write path every posting function goes through.

Order of work, chosen so that nothing needs a savepoint on the successful path:

1. apply the row changes, limits checked in each UPDATE, locks in account-id order;
   a refusal undoes the changes already made and is remembered (``journal.refuse``);
2. insert the header (``ON CONFLICT DO NOTHING``); if the client id is taken, undo and replay;
3. insert the legs, the hot-account deltas and whatever the kind needs (an open hold).

A resolution (capture, void, expire) claims its hold before step 1 and passes ``release_claim``
so that an undo also puts the hold back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.errors import Refusal
from ledger.posting import balances, journal
from ledger.posting.journal import Draft
from ledger.types import Account, Outcome, Transaction

AfterInsert = Callable[[AsyncConnection, Transaction], Awaitable[datetime | None]]
ReleaseClaim = Callable[[AsyncConnection], Awaitable[None]]
OnTaken = Callable[[], Refusal]


async def _nothing(_connection: AsyncConnection) -> None:
    return None


async def execute(
    connection: AsyncConnection,
    draft: Draft,
    accounts: Mapping[uuid.UUID, Account],
    *,
    after_insert: AfterInsert | None = None,
    release_claim: ReleaseClaim = _nothing,
    on_taken: OnTaken | None = None,
) -> Outcome:
    """Write ``draft`` (or its refusal, or replay its client id); never commits.

    ``on_taken`` names the refusal for a header that collides with another committed
    resolution or reversal of the same original rather than with a client id.
    """
    changes = balances.changes_for(draft.legs, accounts)
    applied = await balances.apply_to_rows(connection, changes)
    if applied.refusal is not None:
        await release_claim(connection)
        return await journal.refuse(connection, draft, applied.refusal)
    record = journal.finish(draft)
    if not await journal.insert_header(connection, record):
        await balances.undo(connection, applied.changes)
        await release_claim(connection)
        stored = await journal.replay(connection, draft)
        if stored is not None:
            return stored
        if on_taken is None:  # pragma: no cover - only resolutions and reversals share keys
            raise RuntimeError(f"header of {draft.client_id!r} collided with no stored request")
        return await journal.refuse(connection, draft, on_taken())
    await journal.insert_legs(connection, [record])
    await balances.append_hot_credits(connection, balances.hot_credit_rows(record.id, changes))
    expires_at = await after_insert(connection, record) if after_insert else None
    return Outcome(record, balances=applied.balances, expires_at=expires_at)


async def execute_many(
    connection: AsyncConnection, drafts: Sequence[Draft], accounts: Mapping[uuid.UUID, Account]
) -> list[Transaction]:
    """Write drafts that cannot be refused (hold expiries) in one pass over the accounts.

    Their changes are summed per account and applied in account-id order, so a batch takes each
    lock once and in the same order as every other writer. Any conflict is an error.
    """
    legs = [leg for draft in drafts for leg in draft.legs]
    applied = await balances.apply_to_rows(connection, balances.changes_for(legs, accounts))
    if applied.refusal is not None:
        raise RuntimeError(f"a batch that only releases holds was refused: {applied.refusal}")
    records = [journal.finish(draft) for draft in drafts]
    await journal.insert_headers(connection, records)
    await journal.insert_legs(connection, records)
    deltas = [
        row
        for record in records
        for row in balances.hot_credit_rows(record.id, balances.changes_for(record.legs, accounts))
    ]
    await balances.append_hot_credits(connection, deltas)
    return records
