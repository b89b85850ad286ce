"""Posting transfers, placing holds, and sweeping an account's available balance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ledger.errors import InvalidRequest, NothingToSweep
from ledger.hashing import fingerprint
from ledger.models import account
from ledger.posting import balances, engine, journal
from ledger.posting.journal import Draft
from ledger.posting.requests import (
    accounts_of,
    check_annotations,
    check_client_id,
    check_transfers,
    legs_for,
    transfers_content,
)
from ledger.posting.writes import OpenHold
from ledger.sqltypes import new_id
from ledger.types import Account, JsonObject, Outcome, Transfer

MAX_HOLD_TIMEOUT = timedelta(days=366)


def _draft(
    client_id: str,
    kind: str,
    currency: str,
    request: JsonObject,
    *,
    related_id: uuid.UUID | None,
    reference: str | None,
    details: JsonObject | None,
) -> Draft:
    check_client_id(client_id)
    check_annotations(reference, details)
    content = {"kind": kind, "related_id": related_id, "reference": reference, "details": details}
    return Draft(
        id=new_id(),
        client_id=client_id,
        fingerprint=fingerprint({**content, **request}),
        kind=kind,
        currency=currency,
        related_id=related_id,
        reference=reference,
        details=details,
    )


async def transfer(
    session: AsyncSession,
    client_id: str,
    transfers: Sequence[Transfer],
    *,
    reference: str | None = None,
    details: JsonObject | None = None,
    related_id: uuid.UUID | None = None,
) -> Outcome:
    """Post ``transfers`` as one journal transaction (all or nothing); never commits."""
    currency = check_transfers(transfers)
    request = {"transfers": transfers_content(transfers)}
    draft = _draft(
        client_id,
        "transfer",
        currency,
        request,
        related_id=related_id,
        reference=reference,
        details=details,
    )
    draft.legs = legs_for(transfers, "posted")
    connection = await session.connection()
    return await engine.execute(connection, draft, accounts_of(transfers))


def _timeout_ms(timeout: timedelta) -> int:
    milliseconds = timeout // timedelta(milliseconds=1)
    if not 0 < milliseconds <= MAX_HOLD_TIMEOUT // timedelta(milliseconds=1):
        raise InvalidRequest(f"a hold times out after 1 ms to {MAX_HOLD_TIMEOUT}, not {timeout}")
    return milliseconds


async def hold(
    session: AsyncSession,
    client_id: str,
    held: Transfer,
    *,
    timeout: timedelta,
    reference: str | None = None,
    details: JsonObject | None = None,
    related_id: uuid.UUID | None = None,
) -> Outcome:
    """Reserve ``held.amount`` (pending) until captured, voided, or ``timeout`` passes."""
    currency = check_transfers([held])
    timeout_ms = _timeout_ms(timeout)
    request = {"transfers": transfers_content([held]), "timeout_ms": timeout_ms}
    draft = _draft(
        client_id,
        "hold",
        currency,
        request,
        related_id=related_id,
        reference=reference,
        details=details,
    )
    draft.timeout_ms = timeout_ms
    draft.legs = legs_for([held], "pending")
    connection = await session.connection()
    opened = OpenHold(held.debit.id, held.credit.id, held.amount, timeout_ms)
    return await engine.execute(connection, draft, accounts_of([held]), open_hold=opened)


async def _available(connection: AsyncConnection, source: Account) -> int:
    """The source's available balance, its row locked so no other writer changes it meanwhile."""
    if source.hot:
        await balances.fold_account(connection, source.id)
    query = sa.select(
        account.c.credits_posted - account.c.debits_posted - account.c.debits_pending
    ).where(account.c.id == source.id)
    available: int = (await connection.execute(query.with_for_update(key_share=True))).scalar_one()
    return available


async def sweep(
    session: AsyncSession,
    client_id: str,
    source: Account,
    destination: Account,
    *,
    reference: str | None = None,
    details: JsonObject | None = None,
    related_id: uuid.UUID | None = None,
) -> Outcome:
    """Move all of ``source``'s available balance (e.g. a voucher's remainder) to ``destination``.

    The amount is not part of the request, so a retry is a replay even if the balance changed.
    """
    if not source.debits_must_not_exceed_credits:
        raise InvalidRequest(f"only an account limited to its credits can be swept: {source.code}")
    currency = check_transfers([Transfer(source, destination, 1)])
    request = {"sweep": [str(source.id), str(destination.id)]}
    draft = _draft(
        client_id,
        "transfer",
        currency,
        request,
        related_id=related_id,
        reference=reference,
        details=details,
    )
    connection = await session.connection()
    amount = await _available(connection, source)
    if amount <= 0:
        return await journal.refuse(connection, draft, NothingToSweep(f"{source.code} is empty"))
    moved = Transfer(source, destination, amount)
    draft.legs = legs_for([moved], "posted")
    return await engine.execute(connection, draft, accounts_of([moved]))
