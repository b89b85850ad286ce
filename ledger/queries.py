"""Reading the ledger: balances (now and as of a time), statements, trial balance, period sums.

Every figure that combines an account row with its hot-account deltas or its legs is computed in
one statement, so it comes from one snapshot and is exact even while writers commit.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.clock import db_now
from ledger.errors import AccountNotFound, InvalidRequest, TransactionNotFound
from ledger.ids import created_at_of, first_id_at
from ledger.models import RESOLUTION_KINDS, account, balance_delta, entry, pending_hold, transaction
from ledger.posting.journal import load_transactions
from ledger.types import Balance, HoldState, JsonObject, Transaction

MAX_PAGE = 500


def _delta_sum(column: sa.Column[int]) -> sa.ColumnElement[int]:
    unfolded = sa.select(sa.func.coalesce(sa.func.sum(column), 0)).where(
        balance_delta.c.account_id == account.c.id
    )
    return unfolded.scalar_subquery()


def _leg_sum(side: str, phases: tuple[str, ...], sign: int = 1) -> sa.ColumnElement[int]:
    matches = sa.and_(entry.c.side == side, entry.c.phase.in_(phases))
    return sa.func.coalesce(sa.func.sum(sa.case((matches, sign * entry.c.amount), else_=0)), 0)


#: An account's four totals with its unfolded hot-account credits added.
CURRENT_TOTALS = (
    account.c.debits_posted,
    account.c.credits_posted + _delta_sum(balance_delta.c.credits_posted),
    account.c.debits_pending,
    account.c.credits_pending + _delta_sum(balance_delta.c.credits_pending),
)


def _pending_net(side: str) -> sa.ColumnElement[int]:
    return _leg_sum(side, ("pending",)) + _leg_sum(side, ("release",), -1)


async def balance(
    session: AsyncSession, account_id: uuid.UUID, *, as_of: datetime | None = None
) -> Balance:
    """The account's totals now, or including only transactions created before ``as_of``.

    As of a past time the legs written since are taken off the current totals, so the cost grows
    with the activity since ``as_of``, not with the account's whole history.
    """
    if as_of is None:
        row = (
            await session.execute(sa.select(*CURRENT_TOTALS).where(account.c.id == account_id))
        ).first()
    else:
        since = (
            sa.select(
                _leg_sum("debit", ("posted",)).label("dp"),
                _leg_sum("credit", ("posted",)).label("cp"),
                _pending_net("debit").label("dpe"),
                _pending_net("credit").label("cpe"),
            )
            .where(entry.c.account_id == account_id, entry.c.transaction_id >= first_id_at(as_of))
            .subquery()
        )
        totals = [total - change for total, change in zip(CURRENT_TOTALS, since.c, strict=True)]
        query = sa.select(*totals).select_from(account.join(since, sa.true()))
        row = (await session.execute(query.where(account.c.id == account_id))).first()
    if row is None:
        raise AccountNotFound(f"no account with id {account_id}")
    return Balance(*(int(value) for value in row))


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One leg on an account, with what its transaction says about it."""

    transaction_id: uuid.UUID
    position: int
    created_at: datetime
    kind: str
    side: str
    phase: str
    amount: int
    reference: str | None
    related_id: uuid.UUID | None
    details: JsonObject | None

    @property
    def cursor(self) -> str:
        """Pass as ``after`` to continue a statement after this line."""
        raw = self.transaction_id.bytes + self.position.to_bytes(4, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class StatementPage:
    lines: list[StatementLine]
    next_cursor: str | None


def _decode_cursor(cursor: str) -> tuple[uuid.UUID, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("not a statement cursor") from exc
    if len(raw) != 20:
        raise InvalidRequest("not a statement cursor")
    return uuid.UUID(bytes=raw[:16]), int.from_bytes(raw[16:], "big")


async def statement(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    limit: int = 50,
    after: str | None = None,
    newest_first: bool = True,
) -> StatementPage:
    """One page of the account's legs; each page is one index range scan, however deep."""
    if not 0 < limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be 1 to {MAX_PAGE}")
    query = statement_query(account_id, after=after, newest_first=newest_first)
    rows = (await session.execute(query.limit(limit + 1))).all()
    lines = [_line(row) for row in rows[:limit]]
    more = len(rows) > limit
    return StatementPage(lines, lines[-1].cursor if more else None)


def statement_query(
    account_id: uuid.UUID, *, after: str | None = None, newest_first: bool = True
) -> sa.Select[Any]:
    """The query behind :func:`statement`, without its LIMIT (exposed to check its plan)."""
    key = sa.tuple_(entry.c.transaction_id, entry.c.position)
    query = (
        sa.select(
            entry.c.transaction_id,
            entry.c.position,
            transaction.c.kind,
            entry.c.side,
            entry.c.phase,
            entry.c.amount,
            transaction.c.reference,
            transaction.c.related_id,
            transaction.c.details,
        )
        .join_from(entry, transaction, transaction.c.id == entry.c.transaction_id)
        .where(entry.c.account_id == account_id)
    )
    if after is not None:
        position = sa.tuple_(*(sa.literal(value) for value in _decode_cursor(after)))
        query = query.where(key < position if newest_first else key > position)
    order = (entry.c.transaction_id, entry.c.position)
    return query.order_by(*(column.desc() if newest_first else column for column in order))


def _line(row: Any) -> StatementLine:
    return StatementLine(
        row.transaction_id,
        row.position,
        created_at_of(row.transaction_id),
        row.kind,
        row.side,
        row.phase,
        row.amount,
        row.reference,
        row.related_id,
        row.details,
    )


@dataclass(slots=True)
class TrialBalance:
    """Totals per kind of account (the code up to its first ``:``) and overall."""

    groups: dict[str, Balance] = field(default_factory=dict)
    total: Balance = field(default_factory=Balance)

    @property
    def balanced(self) -> bool:
        """Debits equal credits, posted and pending."""
        total = self.total
        posted = total.debits_posted == total.credits_posted
        return posted and total.debits_pending == total.credits_pending


def _kind(code: sa.ColumnElement[str], dialect: str) -> sa.ColumnElement[str]:
    """An account code up to its first ``:`` (``voucher:...`` → ``voucher``)."""
    find = sa.func.strpos if dialect == "postgresql" else sa.func.instr
    return sa.func.substr(code, 1, find(code + ":", ":") - 1)


def _totals_by_kind(dialect: str, code_prefix: str | None) -> sa.Select[Any]:
    """Every account's totals and its unfolded hot-account credits, summed per kind of account
    in one aggregate (one snapshot): reads accounts and deltas, never the legs."""
    zero = sa.literal(0, sa.BigInteger)
    accounts = sa.select(
        _kind(account.c.code, dialect).label("kind"),
        account.c.debits_posted.label("dp"),
        account.c.credits_posted.label("cp"),
        account.c.debits_pending.label("dpe"),
        account.c.credits_pending.label("cpe"),
    )
    deltas = sa.select(
        _kind(account.c.code, dialect),
        zero,
        balance_delta.c.credits_posted,
        zero,
        balance_delta.c.credits_pending,
    ).join(account, account.c.id == balance_delta.c.account_id)
    if code_prefix:
        accounts = accounts.where(_starts_with(account.c.code, code_prefix))
        deltas = deltas.where(_starts_with(account.c.code, code_prefix))
    rows = sa.union_all(accounts, deltas).subquery()
    sums = (sa.func.coalesce(sa.func.sum(value), 0) for value in list(rows.c)[1:])
    return sa.select(rows.c.kind, *sums).group_by(rows.c.kind)


async def trial_balance(session: AsyncSession, *, code_prefix: str | None = None) -> TrialBalance:
    """Sum every account's totals (or those whose code starts with ``code_prefix``) per kind."""
    query = _totals_by_kind(session.get_bind().dialect.name, code_prefix)
    report = TrialBalance()
    for row in await session.execute(query):
        figures = Balance(*(int(value) for value in row[1:]))
        report.groups[row[0]] = figures
        report.total = report.total + figures
    return report


def _starts_with(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    # substr, not LIKE: exact and case-sensitive on both backends, no escaping needed.
    return sa.func.substr(column, 1, len(prefix)) == prefix


async def sum_legs(
    session: AsyncSession,
    account_ids: Sequence[uuid.UUID],
    *,
    side: str,
    phase: str = "posted",
    since: datetime | None = None,
    until: datetime | None = None,
    reference_prefix: str | None = None,
    counterparty_prefix: str | None = None,
) -> int:
    """Sum the ``side`` legs of these accounts created in [since, until).

    ``reference_prefix`` keeps transactions whose reference starts with it;
    ``counterparty_prefix`` keeps legs whose transaction has an opposite leg on an account whose
    code starts with it (e.g. credits to an enterprise's vouchers that came from ``program:``).
    The id range makes the period one index range per account.
    """
    if side not in ("debit", "credit"):
        raise InvalidRequest(f"side is debit or credit, not {side!r}")
    query = sa.select(sa.func.coalesce(sa.func.sum(entry.c.amount), 0)).where(
        entry.c.account_id.in_(list(account_ids)), entry.c.side == side, entry.c.phase == phase
    )
    query = _in_period(query, since, until)
    if reference_prefix is not None:
        referenced = sa.select(transaction.c.id).where(
            transaction.c.id == entry.c.transaction_id,
            _starts_with(transaction.c.reference, reference_prefix),
        )
        query = query.where(referenced.exists())
    if counterparty_prefix is not None:
        query = query.where(_counterparty(side, counterparty_prefix).exists())
    return int((await session.execute(query)).scalar_one())


def _in_period(
    query: sa.Select[Any], since: datetime | None, until: datetime | None
) -> sa.Select[Any]:
    """Legs of transactions created in [since, until): an id range, since ids carry the time."""
    if since is not None:
        query = query.where(entry.c.transaction_id >= first_id_at(since))
    if until is not None:
        query = query.where(entry.c.transaction_id < first_id_at(until))
    return query


def _counterparty(side: str, prefix: str) -> sa.Select[Any]:
    other = entry.alias("other")
    return (
        sa.select(other.c.position)
        .join(account, account.c.id == other.c.account_id)
        .where(
            other.c.transaction_id == entry.c.transaction_id,
            other.c.side == ("credit" if side == "debit" else "debit"),
            other.c.phase == entry.c.phase,
            _starts_with(account.c.code, prefix),
        )
    )


async def get_transaction(session: AsyncSession, transaction_id: uuid.UUID) -> Transaction:
    """A stored transaction with its legs."""
    connection = await session.connection()
    found = await load_transactions(connection, transaction.c.id == transaction_id)
    if not found:
        raise TransactionNotFound(f"no transaction {transaction_id}")
    return found[0]


async def related_transactions(
    session: AsyncSession, transaction_id: uuid.UUID
) -> list[Transaction]:
    """Transactions pointing at this one: a hold's resolution, refunds, a reversal."""
    connection = await session.connection()
    return await load_transactions(connection, transaction.c.related_id == transaction_id)


async def transaction_by_client_id(session: AsyncSession, client_id: str) -> Transaction | None:
    """The transaction stored under ``client_id`` (committed or refused), if any."""
    connection = await session.connection()
    found = await load_transactions(connection, transaction.c.client_id == client_id)
    return found[0] if found else None


async def hold_state(session: AsyncSession, hold_id: uuid.UUID) -> HoldState:
    """Where a hold stands: open (``pending``, or ``due`` once timed out) or how it resolved."""
    connection = await session.connection()
    found = await load_transactions(connection, transaction.c.id == hold_id)
    if not found or found[0].kind != "hold" or not found[0].committed:
        raise TransactionNotFound(f"no hold {hold_id}")
    debit, credit = found[0].legs
    open_hold = (
        await connection.execute(
            sa.select(pending_hold.c.timeout_at, pending_hold.c.timeout_at <= db_now()).where(
                pending_hold.c.hold_id == hold_id
            )
        )
    ).first()
    state = HoldState(
        hold_id, debit.account_id, credit.account_id, debit.amount, "pending", None, None, 0
    )
    if open_hold is not None:
        status = "due" if open_hold[1] else "pending"
        return replace(state, status=status, expires_at=open_hold[0])
    resolved = [
        record
        for record in await load_transactions(connection, transaction.c.related_id == hold_id)
        if record.committed and record.kind in RESOLUTION_KINDS
    ]
    resolution = resolved[0]
    posted = sum(
        leg.amount for leg in resolution.legs if leg.phase == "posted" and leg.side == "debit"
    )
    status = {"capture": "captured", "void": "voided", "expire": "expired"}[resolution.kind]
    return replace(state, status=status, resolution_id=resolution.id, captured_amount=posted)
