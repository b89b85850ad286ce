"""Applying a journal transaction: account rows, header, legs, hot-account deltas, open hold.

PostgreSQL does all of it in one statement. Its data-modifying CTEs

1. lock the changed accounts in id order (``SELECT ... ORDER BY id FOR NO KEY UPDATE``; the
   lock node sits above the sort, so locks are taken in that order),
2. update each account with its limit in the WHERE clause (``RETURNING`` the new totals),
3. insert the header only if every account was updated (``ON CONFLICT DO NOTHING``),
4. insert legs, deltas and the open hold only if the header was inserted,

and the statement reports the updated accounts and whether the header went in. Rows come in as
arrays through ``unnest``, so the text is the same for any number of legs and is prepared once.
A refused or colliding call has still updated the accounts whose limits held; the engine undoes
them. SQLite, which has no data-modifying CTEs, does the same steps one statement at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger.clock import db_now_plus
from ledger.errors import Refusal
from ledger.models import account, balance_delta, entry, pending_hold, transaction
from ledger.posting import balances, journal
from ledger.posting.balances import Change
from ledger.posting.journal import HEADER_COLUMNS
from ledger.types import Balance, Transaction

_CHANGE_COLUMNS = {
    "account_id": sa.Uuid,
    "debits_posted": sa.BigInteger,
    "credits_posted": sa.BigInteger,
    "debits_pending": sa.BigInteger,
    "credits_pending": sa.BigInteger,
}
_LEG_COLUMNS = {
    "position": sa.Integer,
    "account_id": sa.Uuid,
    "side": sa.String,
    "phase": sa.String,
    "amount": sa.BigInteger,
}
_DELTA_COLUMNS = {
    "id": sa.Uuid,
    "account_id": sa.Uuid,
    "credits_posted": sa.BigInteger,
    "credits_pending": sa.BigInteger,
}
_HOLD_COLUMNS = {
    "debit_account_id": sa.Uuid,
    "credit_account_id": sa.Uuid,
    "amount": sa.BigInteger,
}


@dataclass(frozen=True, slots=True)
class OpenHold:
    """The ``ledger_pending_hold`` row a hold opens; it times out by the database clock."""

    debit_account_id: uuid.UUID
    credit_account_id: uuid.UUID
    amount: int
    timeout_ms: int


@dataclass(slots=True)
class Posted:
    """What :func:`post` did: rows updated (undo them unless ``written``), and why not."""

    applied: list[Change] = field(default_factory=list)
    balances: dict[uuid.UUID, Balance] = field(default_factory=dict)
    refusal: Refusal | None = None
    written: bool = False
    expires_at: datetime | None = None


async def post(
    connection: AsyncConnection,
    record: Transaction,
    changes: Sequence[Change],
    open_hold: OpenHold | None,
) -> Posted:
    """Apply ``record``: its account changes, then (if all were allowed) everything else."""
    deltas = balances.hot_credit_rows(record.id, changes)
    if connection.dialect.name == "postgresql":
        return await _post_in_one_statement(connection, record, changes, deltas, open_hold)
    applied = await balances.apply_to_rows(connection, changes)
    posted = Posted(applied.changes, applied.balances, applied.refusal)
    if posted.refusal is None and await journal.insert_header(connection, record):
        posted.written = True
        await journal.insert_legs(connection, [record])
        await balances.append_hot_credits(connection, deltas)
        if open_hold is not None:
            posted.expires_at = await _open_hold_in_steps(connection, record, open_hold)
    return posted


async def _open_hold_in_steps(
    connection: AsyncConnection, record: Transaction, open_hold: OpenHold
) -> datetime | None:
    opened = sa.insert(pending_hold).values(
        hold_id=record.id,
        debit_account_id=open_hold.debit_account_id,
        credit_account_id=open_hold.credit_account_id,
        amount=open_hold.amount,
        timeout_at=db_now_plus(open_hold.timeout_ms),
    )
    expires_at: datetime = (
        await connection.execute(opened.returning(pending_hold.c.timeout_at))
    ).scalar_one()
    return expires_at


async def _post_in_one_statement(
    connection: AsyncConnection,
    record: Transaction,
    changes: Sequence[Change],
    deltas: Sequence[dict[str, Any]],
    open_hold: OpenHold | None,
) -> Posted:
    on_rows = balances.row_changes(changes)
    parameters = _parameters(record, on_rows, deltas, open_hold)
    statement = _one_statement(bool(deltas), open_hold is not None)
    posted = Posted()
    updated: dict[uuid.UUID, Balance] = {}
    for row in await connection.execute(statement, parameters):
        if row.part == "header":
            posted.written, posted.expires_at = True, row.expires_at
        else:
            updated[row.id] = Balance(*row[2:6])
    posted.applied = [change for change in on_rows if change.account.id in updated]
    posted.balances = updated
    refused = [change for change in on_rows if change.account.id not in updated]
    if refused:
        posted.refusal = balances.refusal_for(refused[0])
    return posted


def _parameters(
    record: Transaction,
    on_rows: Sequence[Change],
    deltas: Sequence[dict[str, Any]],
    open_hold: OpenHold | None,
) -> dict[str, Any]:
    parameters = {f"h_{name}": value for name, value in journal.header_row(record).items()}
    parameters["change_count"] = len(on_rows)
    parameters["change_account_id"] = [change.account.id for change in on_rows]
    for name in list(_CHANGE_COLUMNS)[1:]:
        parameters[f"change_{name}"] = [getattr(change, name) for change in on_rows]
    for name in _LEG_COLUMNS:
        parameters[f"leg_{name}"] = [getattr(leg, name) for leg in record.legs]
    for name in _DELTA_COLUMNS:
        parameters[f"delta_{name}"] = [delta[name] for delta in deltas]
    if open_hold is not None:
        for name in (*_HOLD_COLUMNS, "timeout_ms"):
            parameters[f"hold_{name}"] = getattr(open_hold, name)
    return parameters


def _unnest(prefix: str, columns: dict[str, Any]) -> Any:
    arrays = (
        sa.bindparam(f"{prefix}_{name}", type_=postgresql.ARRAY(type_))
        for name, type_ in columns.items()
    )
    return sa.func.unnest(*arrays).table_valued(*columns).render_derived()


def _insert_rows(header: Any, table: sa.Table, prefix: str, columns: dict[str, Any]) -> Any:
    rows = _unnest(prefix, columns)
    selected = sa.select(header.c.id, *rows.c).select_from(header.join(rows, sa.true()))
    return (
        sa.insert(table)
        .from_select(["transaction_id", *columns], selected)
        .cte(f"{prefix}_written")
    )


def _updated_accounts() -> Any:
    ids = sa.bindparam("change_account_id", type_=postgresql.ARRAY(sa.Uuid))
    locked = (
        sa.select(account.c.id)
        .where(account.c.id == sa.any_(ids))
        .order_by(account.c.id)
        .with_for_update(key_share=True)
        .cte("locked")
    )
    change = _unnest("change", _CHANGE_COLUMNS)
    totals = [change.c[name] for name in list(_CHANGE_COLUMNS)[1:]]
    return (
        sa.update(account)
        .where(account.c.id == change.c.account_id)
        .where(account.c.id.in_(sa.select(locked.c.id)))
        .where(balances.limits_hold(*totals))
        .values(balances.add_to_totals(*totals))
        .returning(account.c.id, *balances.TOTALS)
        .cte("updated")
    )


def _new_header(updated: Any) -> Any:
    values: list[Any] = [
        sa.bindparam(f"h_{name}", type_=transaction.c[name].type) for name in HEADER_COLUMNS
    ]
    all_updated = sa.select(sa.func.count()).select_from(updated).scalar_subquery()
    return (
        postgresql.insert(transaction)
        .from_select(
            list(HEADER_COLUMNS),
            sa.select(*values).where(all_updated == sa.bindparam("change_count")),
        )
        .on_conflict_do_nothing()
        .returning(transaction.c.id)
        .cte("new_header")
    )


def _open_hold(header: Any) -> Any:
    values: list[Any] = [sa.bindparam(f"hold_{name}", type_=t) for name, t in _HOLD_COLUMNS.items()]
    timeout = db_now_plus(sa.bindparam("hold_timeout_ms", type_=sa.BigInteger))
    return (
        sa.insert(pending_hold)
        .from_select(
            ["hold_id", *_HOLD_COLUMNS, "timeout_at"], sa.select(header.c.id, *values, timeout)
        )
        .returning(pending_hold.c.timeout_at)
        .cte("hold_opened")
    )


@cache
def _one_statement(with_deltas: bool, with_hold: bool) -> Any:
    """The PostgreSQL single-statement posting, built once per shape."""
    updated = _updated_accounts()
    header = _new_header(updated)
    parts = [_insert_rows(header, entry, "leg", _LEG_COLUMNS)]
    if with_deltas:
        parts.append(_insert_rows(header, balance_delta, "delta", _DELTA_COLUMNS))
    no_total = sa.cast(sa.null(), sa.BigInteger)
    if with_hold:
        opened = _open_hold(header)
        expires_at: Any = sa.select(opened.c.timeout_at).scalar_subquery()
    else:
        expires_at = sa.cast(sa.null(), transaction.c.created_at.type)
    header_part = sa.select(
        sa.literal("header").label("part"),
        header.c.id,
        *(no_total for _ in range(4)),
        expires_at.label("expires_at"),
    )
    account_part = sa.select(
        sa.literal("account"),
        updated.c.id,
        *(updated.c[column.name] for column in balances.TOTALS),
        sa.cast(sa.null(), transaction.c.created_at.type),
    )
    return sa.union_all(header_part, account_part).add_cte(*parts)
