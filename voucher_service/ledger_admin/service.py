"""Ledger health: what the authority's finance and audit staff read about the ledger."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

import ledger
from ledger.models import account, checkpoint, transaction
from ledger.queries import CURRENT_TOTALS
from voucher_service.keys.service import KeyRing
from voucher_service.kit.pagination import PageParams, encode_cursor
from voucher_service.ledger_admin.models import LedgerVerifyRun
from voucher_service.ledger_admin.schemas import (
    AccountPublic,
    BalancePublic,
    CheckpointPublic,
    LedgerHealthPublic,
    StatementLinePublic,
    StatementPagePublic,
    TrialBalancePublic,
    VerifyRunPublic,
)


async def trial_balance(session: AsyncSession) -> TrialBalancePublic:
    """Every account summed per kind and overall, with the unfolded hot-account credits, in one
    aggregate statement (one snapshot, so exact while writers commit): debits equal credits."""
    report = await ledger.trial_balance(session)
    return TrialBalancePublic(
        balanced=report.balanced,
        total=BalancePublic.of(report.total),
        groups={name: BalancePublic.of(value) for name, value in sorted(report.groups.items())},
    )


async def run_verify(
    session: AsyncSession, keyring: KeyRing, run_by: uuid.UUID | None
) -> LedgerVerifyRun:
    """Recompute the whole ledger and store the outcome (the caller's unit of work commits)."""
    report = await ledger.verify(session, keyring)
    run = LedgerVerifyRun(
        ok=report.ok,
        transactions=report.transactions,
        checkpoints=report.checkpoints,
        accounts=report.accounts,
        holds=report.holds,
        breaks=[str(found) for found in report.breaks],
        run_by_id=run_by,
    )
    session.add(run)
    await session.flush()
    return run


async def health(
    session: AsyncSession, trial: TrialBalancePublic | None = None
) -> LedgerHealthPublic:
    """Balanced or not, the last verify run and the last sealed checkpoint (``trial``: the trial
    balance when the caller has just computed it, so it is not computed twice)."""
    last_run = await session.scalar(
        select(LedgerVerifyRun).order_by(col(LedgerVerifyRun.id).desc()).limit(1)
    )
    last_seal = (
        await session.execute(sa.select(checkpoint).order_by(checkpoint.c.seq.desc()).limit(1))
    ).first()
    unsealed = await session.scalar(
        sa.select(sa.func.count())
        .select_from(transaction)
        .where(transaction.c.checkpoint_seq.is_(None))
    )
    return LedgerHealthPublic(
        balanced=(trial or await trial_balance(session)).balanced,
        last_verify=VerifyRunPublic.model_validate(last_run, from_attributes=True)
        if last_run
        else None,
        last_checkpoint=CheckpointPublic.model_validate(last_seal._mapping) if last_seal else None,
        unsealed_transactions=int(unsealed or 0),
    )


def _account_public(row: Any) -> AccountPublic:
    return AccountPublic(
        id=row.id,
        code=row.code,
        currency=row.currency,
        debits_posted=row[2],
        credits_posted=row[3],
        debits_pending=row[4],
        credits_pending=row[5],
    )


async def list_accounts(
    session: AsyncSession, params: PageParams, code_prefix: str | None
) -> tuple[list[AccountPublic], str | None]:
    """Accounts by id (keyset), with their current totals; optionally by code prefix."""
    query = sa.select(account.c.id, account.c.code, *CURRENT_TOTALS, account.c.currency)
    if code_prefix:
        query = query.where(sa.func.substr(account.c.code, 1, len(code_prefix)) == code_prefix)
    if params.after is not None:
        query = query.where(account.c.id > params.after)
    rows = (await session.execute(query.order_by(account.c.id).limit(params.limit + 1))).all()
    items = [_account_public(row) for row in rows[: params.limit]]
    more = len(rows) > params.limit
    return items, encode_cursor(items[-1].id) if more else None


async def account_statement(
    session: AsyncSession, account_id: uuid.UUID, limit: int, cursor: str | None, newest: bool
) -> StatementPagePublic:
    """One page of an account's legs; one index range scan however long the history."""
    await ledger.balance(session, account_id)  # AccountNotFound (404) for an unknown id
    page = await ledger.statement(
        session, account_id, limit=limit, after=cursor, newest_first=newest
    )
    lines = [
        StatementLinePublic(
            transaction_id=line.transaction_id,
            position=line.position,
            created_at=line.created_at,
            kind=line.kind,
            side=line.side,
            phase=line.phase,
            amount=line.amount,
            reference=line.reference,
        )
        for line in page.lines
    ]
    return StatementPagePublic(items=lines, next_cursor=page.next_cursor)
