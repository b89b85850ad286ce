"""The one write path every posting function goes through.

Order of work, chosen so that nothing needs a savepoint on the successful path:

1. fold the deltas of any hot account about to be debited;
2. ``writes.post``: apply the row changes, limits checked in each UPDATE, locks in account-id
   order; if all were allowed, insert the header (``ON CONFLICT DO NOTHING``) and with it the
   legs, the hot-account deltas and a hold's open row (one statement on PostgreSQL);
3. if it was refused, or the header collided with a stored client id, undo the row changes
   (the call still holds their locks, so this is exact) and remember the refusal
   (``journal.refuse``) or return the stored outcome (``journal.replay``).

A resolution (capture, void, expire) claims its hold before step 1 and passes ``release_claim``
so that an undo also puts the hold back.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.errors import Refusal
from ledger.posting import balances, journal, writes
from ledger.posting.journal import Draft
from ledger.posting.writes import OpenHold
from ledger.types import Account, Outcome, Transaction

ReleaseClaim = Callable[[AsyncConnection], Awaitable[None]]
OnTaken = Callable[[], Refusal]
Explain = Callable[[AsyncConnection, Refusal], Awaitable[Refusal]]


async def _nothing(_connection: AsyncConnection) -> None:
    return None


async def execute(
    connection: AsyncConnection,
    draft: Draft,
    accounts: Mapping[uuid.UUID, Account],
    *,
    open_hold: OpenHold | None = None,
    release_claim: ReleaseClaim = _nothing,
    on_taken: OnTaken | None = None,
    explain: Explain | None = None,
) -> Outcome:
    """Write ``draft`` (or its refusal, or replay its client id); never commits.

    ``on_taken`` names the refusal for a header that collides with another committed
    resolution or reversal of the same original rather than with a client id; ``explain`` may
    replace a limit refusal by a more precise one before it is remembered.
    """
    changes = balances.changes_for(draft.legs, accounts)
    await balances.fold_before_debits(connection, changes)
    record = journal.finish(draft)
    posted = await writes.post(connection, record, changes, open_hold)
    if posted.written:
        return Outcome(record, balances=posted.balances, expires_at=posted.expires_at)
    await balances.undo(connection, posted.applied)
    await release_claim(connection)
    if posted.refusal is not None:
        refusal = await explain(connection, posted.refusal) if explain else posted.refusal
        return await journal.refuse(connection, draft, refusal)
    stored = await journal.replay(connection, draft)
    if stored is not None:
        return stored
    if on_taken is None:  # pragma: no cover - only resolutions and reversals share keys
        raise RuntimeError(f"header of {draft.client_id!r} collided with no stored request")
    return await journal.refuse(connection, draft, on_taken())


async def execute_many(
    connection: AsyncConnection, drafts: Sequence[Draft], accounts: Mapping[uuid.UUID, Account]
) -> list[Transaction]:
    """Write drafts that cannot be refused (hold expiries) in one pass over the accounts.

    Their changes are summed per account and applied in account-id order, so a batch takes each
    lock once and in the same order as every other writer. Any conflict raises.
    """
    legs = [leg for draft in drafts for leg in draft.legs]
    # Releasing reserved amounts cannot break a limit, so no limit is checked here; the
    # account CHECK constraints would still refuse a corrupted row.
    await balances.apply_unchecked(connection, balances.changes_for(legs, accounts))
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
