"""Resolving holds: capture (all or part), void, and expiry by the database clock.

A resolution first *claims* the hold by deleting its ``ledger_pending_hold`` row in one
statement that also checks the hold has not timed out (and, for a partial capture, that it
reserved enough). Of several concurrent resolutions exactly one deletes the row; the others find
it gone and are refused with ``hold_already_resolved``. A hold past its timeout can only expire.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger.accounts import get_accounts_by_id
from ledger.clock import db_now
from ledger.errors import (
    AmountExceedsHold,
    HoldAlreadyResolved,
    HoldExpired,
    InvalidRequest,
    Refusal,
    TransactionNotFound,
)
from ledger.hashing import fingerprint
from ledger.models import pending_hold, transaction
from ledger.posting import engine, journal
from ledger.posting.journal import Draft
from ledger.posting.requests import check_amount, check_annotations, check_client_id
from ledger.sqltypes import new_id
from ledger.types import JsonObject, Leg, Outcome


@dataclass(frozen=True, slots=True)
class Claimed:
    """An open hold this call took out of ``ledger_pending_hold``."""

    hold_id: uuid.UUID
    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    timeout_at: datetime

    def legs(self, posted_amount: int) -> list[Leg]:
        """Release the whole reservation, then post ``posted_amount`` of it."""
        debit, credit = self.debit_account_id, self.credit_account_id
        legs = [Leg(0, debit, "debit", "release", self.amount)]
        legs.append(Leg(1, credit, "credit", "release", self.amount))
        if posted_amount:
            legs.append(Leg(2, debit, "debit", "posted", posted_amount))
            legs.append(Leg(3, credit, "credit", "posted", posted_amount))
        return legs

    def row(self) -> dict[str, Any]:
        """The open-hold row, to put it back when the claim is undone."""
        return {
            "hold_id": self.hold_id,
            "debit_account_id": self.debit_account_id,
            "credit_account_id": self.credit_account_id,
            "amount": self.amount,
            "timeout_at": self.timeout_at,
        }


_CLAIMED = (
    pending_hold.c.hold_id,
    pending_hold.c.debit_account_id,
    pending_hold.c.credit_account_id,
    pending_hold.c.amount,
    pending_hold.c.timeout_at,
)


async def _claim(
    connection: AsyncConnection, hold_id: uuid.UUID, amount: int | None
) -> Claimed | None:
    statement = sa.delete(pending_hold).where(
        pending_hold.c.hold_id == hold_id, pending_hold.c.timeout_at > db_now()
    )
    if amount is not None:
        statement = statement.where(pending_hold.c.amount >= amount)
    row = (await connection.execute(statement.returning(*_CLAIMED))).first()
    return None if row is None else Claimed(*row)


async def _why_not(
    connection: AsyncConnection, hold_id: uuid.UUID, amount: int | None
) -> tuple[str, Refusal]:
    """Why a hold could not be claimed: its currency and the refusal to remember."""
    query = (
        sa.select(
            transaction.c.kind,
            transaction.c.status,
            transaction.c.currency,
            pending_hold.c.amount,
            pending_hold.c.timeout_at <= db_now(),
        )
        .select_from(
            transaction.outerjoin(pending_hold, pending_hold.c.hold_id == transaction.c.id)
        )
        .where(transaction.c.id == hold_id)
    )
    row = (await connection.execute(query)).first()
    if row is None or row.kind != "hold" or row.status != "committed":
        raise TransactionNotFound(f"no hold {hold_id}")
    if row.amount is None:
        return row.currency, HoldAlreadyResolved(f"hold {hold_id} was already resolved")
    if row[4]:
        return row.currency, HoldExpired(f"hold {hold_id} has expired")
    return row.currency, AmountExceedsHold(f"hold {hold_id} reserved {row.amount}, not {amount}")


async def _resolve(
    session: AsyncSession,
    client_id: str,
    hold_id: uuid.UUID,
    *,
    kind: str,
    amount: int | None,
    reference: str | None,
    details: JsonObject | None,
) -> Outcome:
    check_client_id(client_id)
    check_annotations(reference, details)
    request = {"kind": kind, "hold_id": hold_id, "amount": amount}
    request |= {"reference": reference, "details": details}
    draft = Draft(new_id(), client_id, fingerprint(request), kind, "", related_id=hold_id)
    draft.reference, draft.details = reference, details
    connection = await session.connection()
    claimed = await _claim(connection, hold_id, amount)
    if claimed is None:
        draft.currency, refusal = await _why_not(connection, hold_id, amount)
        return await journal.refuse(connection, draft, refusal)
    accounts = await get_accounts_by_id(
        session, (claimed.debit_account_id, claimed.credit_account_id)
    )
    draft.currency = accounts[claimed.debit_account_id].currency
    posted = claimed.amount if kind == "capture" and amount is None else amount or 0
    draft.legs = claimed.legs(posted)

    async def put_back(connection: AsyncConnection) -> None:
        await connection.execute(sa.insert(pending_hold).values(claimed.row()))

    # No ``on_taken``: having claimed the hold, no other resolution of it can exist.
    return await engine.execute(connection, draft, accounts, release_claim=put_back)


async def capture(
    session: AsyncSession,
    client_id: str,
    hold_id: uuid.UUID,
    *,
    amount: int | None = None,
    reference: str | None = None,
    details: JsonObject | None = None,
) -> Outcome:
    """Post ``amount`` of the hold (all of it by default) and release the rest."""
    if amount is not None:
        check_amount(amount)
    return await _resolve(
        session,
        client_id,
        hold_id,
        kind="capture",
        amount=amount,
        reference=reference,
        details=details,
    )


async def void(
    session: AsyncSession,
    client_id: str,
    hold_id: uuid.UUID,
    *,
    reference: str | None = None,
    details: JsonObject | None = None,
) -> Outcome:
    """Release the whole hold; nothing is posted."""
    return await _resolve(
        session, client_id, hold_id, kind="void", amount=None, reference=reference, details=details
    )


def expiry_client_id(hold_id: uuid.UUID) -> str:
    """The client id of a hold's expiry: fixed, so an expiry is written once."""
    return f"ledger:expire:{hold_id}"


async def _claim_due(connection: AsyncConnection, limit: int) -> Sequence[Claimed]:
    due = (
        sa.select(pending_hold.c.hold_id)
        .where(pending_hold.c.timeout_at <= db_now())
        .order_by(pending_hold.c.timeout_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = sa.delete(pending_hold).where(pending_hold.c.hold_id.in_(due.scalar_subquery()))
    rows = (await connection.execute(statement.returning(*_CLAIMED))).all()
    return [Claimed(*row) for row in rows]


def _expiry(claimed: Claimed, currency: str) -> Draft:
    request = {"kind": "expire", "hold_id": claimed.hold_id}
    draft = Draft(
        new_id(), expiry_client_id(claimed.hold_id), fingerprint(request), "expire", currency
    )
    draft.related_id = claimed.hold_id
    draft.legs = claimed.legs(0)
    return draft


async def expire_due_holds(session: AsyncSession, *, limit: int = 500) -> int:
    """Expire up to ``limit`` holds past their timeout (database clock); returns how many."""
    if limit <= 0:
        raise InvalidRequest("limit must be positive")
    connection = await session.connection()
    claimed = await _claim_due(connection, limit)
    if not claimed:
        return 0
    ids = {i for hold in claimed for i in (hold.debit_account_id, hold.credit_account_id)}
    accounts = await get_accounts_by_id(session, ids)
    drafts = [_expiry(hold, accounts[hold.debit_account_id].currency) for hold in claimed]
    await engine.execute_many(connection, drafts, accounts)
    return len(drafts)
