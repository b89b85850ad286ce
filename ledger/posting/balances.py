"""Changing account totals: one conditional UPDATE per account, in account-id order.

The limit is part of the UPDATE's WHERE clause, so the check and the change are one atomic
statement on both backends (PostgreSQL re-evaluates it on the newest row version after waiting
for a lock; SQLite runs writers one at a time). No row is read first. A refused update changes
nothing; the updates already applied by the same call are then undone (:func:`undo`) while the
call still holds their row locks, so no savepoint is needed on the successful path.

Credits to a hot account are not applied to its row but appended to ``ledger_balance_delta``
(:func:`append_hot_credits`); a debit on a hot account first folds its deltas into the row
(:func:`fold_account`) so that its limit check counts every committed credit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.errors import CreditLimitExceeded, InsufficientBalance, Refusal
from ledger.models import account, balance_delta
from ledger.sqltypes import new_id
from ledger.types import Account, Balance, Leg

_SIGN = {"posted": 1, "pending": 1, "release": -1}


@dataclass(slots=True)
class Change:
    """The net change one journal transaction makes to one account's totals."""

    account: Account
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def touches_debits(self) -> bool:
        """Whether the change moves the debit side (the side a limit can refuse)."""
        return self.debits_posted != 0 or self.debits_pending != 0

    @property
    def appends_to_hot_account(self) -> bool:
        """Credit-side only, on a hot account: cannot break its limit, so it needs no lock."""
        return self.account.hot and not self.touches_debits

    def add(self, leg: Leg) -> None:
        """Fold one leg into the change."""
        amount = _SIGN[leg.phase] * leg.amount
        posted = leg.phase == "posted"
        if leg.side == "debit":
            if posted:
                self.debits_posted += amount
            else:
                self.debits_pending += amount
        elif posted:
            self.credits_posted += amount
        else:
            self.credits_pending += amount

    def inverse(self) -> Change:
        """The change that undoes this one."""
        return Change(
            self.account,
            -self.debits_posted,
            -self.credits_posted,
            -self.debits_pending,
            -self.credits_pending,
        )


def changes_for(legs: Iterable[Leg], accounts: Mapping[uuid.UUID, Account]) -> list[Change]:
    """Net changes per account, in account-id order (the order locks are taken in)."""
    changes: dict[uuid.UUID, Change] = {}
    for leg in legs:
        change = changes.get(leg.account_id)
        if change is None:
            change = changes[leg.account_id] = Change(accounts[leg.account_id])
        change.add(leg)
    return [changes[account_id] for account_id in sorted(changes)]


TOTALS = (
    account.c.debits_posted,
    account.c.credits_posted,
    account.c.debits_pending,
    account.c.credits_pending,
)


def limits_hold(dp: Any, cp: Any, dpe: Any, cpe: Any) -> sa.ColumnElement[bool]:
    """The account's limit, evaluated on its totals after adding these changes."""
    debits = account.c.debits_posted + dp + account.c.debits_pending + dpe
    credits = account.c.credits_posted + cp + account.c.credits_pending + cpe
    return sa.and_(
        sa.or_(
            sa.not_(account.c.debits_must_not_exceed_credits),
            debits <= account.c.credits_posted + cp,
        ),
        sa.or_(
            sa.not_(account.c.credits_must_not_exceed_debits),
            credits <= account.c.debits_posted + dp,
        ),
    )


def add_to_totals(dp: Any, cp: Any, dpe: Any, cpe: Any) -> dict[str, Any]:
    """The SET clause adding these changes to an account's four totals."""
    return {
        "debits_posted": account.c.debits_posted + dp,
        "credits_posted": account.c.credits_posted + cp,
        "debits_pending": account.c.debits_pending + dpe,
        "credits_pending": account.c.credits_pending + cpe,
    }


def _delta(name: str) -> sa.BindParameter[int]:
    return sa.bindparam(name, type_=sa.BigInteger)


_DELTAS = (
    _delta("d_debits_posted"),
    _delta("d_credits_posted"),
    _delta("d_debits_pending"),
    _delta("d_credits_pending"),
)
_CHANGE = (
    sa.update(account)
    .where(account.c.id == sa.bindparam("account_id"))
    .values(add_to_totals(*_DELTAS))
)
_LIMITED_CHANGE = _CHANGE.where(limits_hold(*_DELTAS)).returning(*TOTALS)


def _parameters(change: Change) -> dict[str, object]:
    return {
        "account_id": change.account.id,
        "d_debits_posted": change.debits_posted,
        "d_credits_posted": change.credits_posted,
        "d_debits_pending": change.debits_pending,
        "d_credits_pending": change.credits_pending,
    }


def refusal_for(change: Change) -> Refusal:
    """The refusal for a change its account's limit does not allow."""
    code = change.account.code
    if change.account.debits_must_not_exceed_credits:
        return InsufficientBalance(f"account {code} has too little available for this debit")
    return CreditLimitExceeded(f"account {code} would be credited beyond its debits")


def row_changes(changes: Iterable[Change]) -> list[Change]:
    """The changes applied to account rows: all but credits appended to hot accounts."""
    return [change for change in changes if not change.appends_to_hot_account]


async def fold_before_debits(connection: AsyncConnection, changes: Iterable[Change]) -> None:
    """Fold the deltas of every hot account about to be debited, so its limit sees them."""
    for change in changes:
        if change.account.hot and change.touches_debits:
            await fold_account(connection, change.account.id)


@dataclass(slots=True)
class Applied:
    """The row updates one call made, their new totals, and the refusal that stopped it."""

    changes: list[Change]
    balances: dict[uuid.UUID, Balance]
    refusal: Refusal | None = None


async def apply_to_rows(connection: AsyncConnection, changes: Sequence[Change]) -> Applied:
    """Apply the row changes one UPDATE each, in order, stopping at the first refusal.

    What was applied before a refusal stays applied; the caller undoes it.
    """
    applied = Applied([], {})
    for change in row_changes(changes):
        row = (await connection.execute(_LIMITED_CHANGE, _parameters(change))).first()
        if row is None:
            applied.refusal = refusal_for(change)
            return applied
        applied.changes.append(change)
        applied.balances[change.account.id] = Balance(*row)
    return applied


async def undo(connection: AsyncConnection, changes: Iterable[Change]) -> None:
    """Reverse changes this call applied (it still holds their row locks, so this is exact)."""
    await apply_unchecked(connection, [change.inverse() for change in changes])


async def apply_unchecked(connection: AsyncConnection, changes: Iterable[Change]) -> None:
    """Apply row changes that cannot break a limit (undoing, releasing), in the given order."""
    for change in row_changes(changes):
        await connection.execute(_CHANGE, _parameters(change))


def hot_credit_rows(transaction_id: uuid.UUID, changes: Iterable[Change]) -> list[dict[str, Any]]:
    """The delta rows that record one transaction's credits to hot accounts."""
    return [
        {
            "id": new_id(),
            "account_id": change.account.id,
            "transaction_id": transaction_id,
            "credits_posted": change.credits_posted,
            "credits_pending": change.credits_pending,
        }
        for change in changes
        if change.appends_to_hot_account
    ]


async def append_hot_credits(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Record hot-account credits as deltas: inserts only, so concurrent writers never wait."""
    if rows:
        await connection.execute(sa.insert(balance_delta), list(rows))


async def fold_account(connection: AsyncConnection, account_id: uuid.UUID) -> int:
    """Move an account's deltas into its row; returns how many deltas were folded.

    The row lock comes first, so no other folder runs for this account, and the DELETE (a new
    snapshot under READ COMMITTED) takes exactly the deltas committed by then: a release is never
    folded without the hold it releases, and no delta is counted twice.
    """
    lock = sa.select(account.c.id).where(account.c.id == account_id)
    await connection.execute(lock.with_for_update(key_share=True))
    taken = (
        await connection.execute(
            sa.delete(balance_delta)
            .where(balance_delta.c.account_id == account_id)
            .returning(balance_delta.c.credits_posted, balance_delta.c.credits_pending)
        )
    ).all()
    if taken:
        await connection.execute(
            sa.update(account)
            .where(account.c.id == account_id)
            .values(
                credits_posted=account.c.credits_posted + sum(row[0] for row in taken),
                credits_pending=account.c.credits_pending + sum(row[1] for row in taken),
            )
        )
    return len(taken)
