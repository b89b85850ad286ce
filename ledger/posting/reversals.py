"""Reversals: the correcting transaction that undoes the posted legs of an earlier one.

Posted rows are never changed; a reversal swaps the side of every posted leg of the original and
points at it (``related_id``). A transaction is reversed at most once (a partial unique index);
the reversal is refused like any other transaction if an account no longer has the money.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger.accounts import get_accounts_by_id
from ledger.errors import AlreadyReversed, InvalidRequest, Refusal, TransactionNotFound
from ledger.hashing import fingerprint
from ledger.models import transaction
from ledger.posting import engine, journal
from ledger.posting.journal import Draft
from ledger.posting.requests import check_annotations, check_client_id
from ledger.sqltypes import new_id
from ledger.types import JsonObject, Leg, Outcome, Transaction

_OPPOSITE = {"debit": "credit", "credit": "debit"}


def _reversing_legs(original: Transaction) -> list[Leg]:
    posted = [leg for leg in original.legs if leg.phase == "posted"]
    if not original.committed or not posted:
        raise InvalidRequest(
            f"transaction {original.id} ({original.kind}, {original.status}) posted nothing "
            "to reverse; a hold is voided, not reversed"
        )
    return [
        Leg(position, leg.account_id, _OPPOSITE[leg.side], "posted", leg.amount)
        for position, leg in enumerate(posted)
    ]


async def _original(connection: AsyncConnection, transaction_id: uuid.UUID) -> Transaction:
    found = await journal.load_transactions(connection, transaction.c.id == transaction_id)
    if not found:
        raise TransactionNotFound(f"no transaction {transaction_id}")
    return found[0]


def _reversed_before(transaction_id: uuid.UUID) -> sa.Select[tuple[uuid.UUID]]:
    return sa.select(transaction.c.id).where(
        transaction.c.related_id == transaction_id,
        transaction.c.kind == "reversal",
        transaction.c.status == "committed",
    )


async def reverse(
    session: AsyncSession,
    client_id: str,
    transaction_id: uuid.UUID,
    *,
    reference: str | None = None,
    details: JsonObject | None = None,
) -> Outcome:
    """Undo every posted leg of ``transaction_id`` in a new transaction pointing at it."""
    check_client_id(client_id)
    check_annotations(reference, details)
    connection = await session.connection()
    original = await _original(connection, transaction_id)
    request = {"kind": "reversal", "related_id": transaction_id}
    request |= {"reference": reference, "details": details}
    draft = Draft(new_id(), client_id, fingerprint(request), "reversal", original.currency)
    draft.related_id, draft.reference, draft.details = transaction_id, reference, details
    draft.legs = _reversing_legs(original)

    def taken() -> Refusal:
        return AlreadyReversed(f"transaction {transaction_id} was already reversed")

    if await connection.scalar(_reversed_before(transaction_id)) is not None:
        return await journal.refuse(connection, draft, taken())

    async def explain(connection: AsyncConnection, refusal: Refusal) -> Refusal:
        # A concurrent reversal that committed while this one waited for its locks has moved
        # the money back already; say so rather than "insufficient balance".
        reversed_now = await connection.scalar(_reversed_before(transaction_id))
        return refusal if reversed_now is None else taken()

    accounts = await get_accounts_by_id(session, {leg.account_id for leg in draft.legs})
    return await engine.execute(connection, draft, accounts, on_taken=taken, explain=explain)
