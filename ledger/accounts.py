"""Opening and finding accounts. Opening is idempotent: the same spec gives the same account."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import AccountConflict, AccountNotFound, InvalidRequest
from ledger.models import account
from ledger.sqltypes import new_id, utcnow
from ledger.types import Account, AccountSpec

MAX_CODE_LENGTH = 200
_IDENTITY = (
    account.c.id,
    account.c.code,
    account.c.currency,
    account.c.debits_must_not_exceed_credits,
    account.c.credits_must_not_exceed_debits,
    account.c.hot,
)


def _check_spec(spec: AccountSpec) -> None:
    if not spec.code or len(spec.code) > MAX_CODE_LENGTH:
        raise InvalidRequest(f"account code must be 1 to {MAX_CODE_LENGTH} characters")
    if len(spec.currency) != 3 or not spec.currency.isupper():
        raise InvalidRequest(f"currency {spec.currency!r} is not an ISO 4217 code")
    if spec.debits_must_not_exceed_credits and spec.credits_must_not_exceed_debits:
        raise InvalidRequest(f"account {spec.code}: at most one limit flag")
    if spec.hot and spec.credits_must_not_exceed_debits:
        raise InvalidRequest(f"account {spec.code}: a hot account cannot limit its credits")


def _row(spec: AccountSpec) -> dict[str, Any]:
    return {
        "id": new_id(),
        "code": spec.code,
        "currency": spec.currency,
        "debits_must_not_exceed_credits": spec.debits_must_not_exceed_credits,
        "credits_must_not_exceed_debits": spec.credits_must_not_exceed_debits,
        "hot": spec.hot,
        "created_at": utcnow(),
    }


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        code=row.code,
        currency=row.currency,
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        hot=row.hot,
    )


async def open_accounts(session: AsyncSession, specs: Iterable[AccountSpec]) -> dict[str, Account]:
    """Open every account in ``specs`` that does not exist yet; all of them, by code."""
    wanted = {spec.code: spec for spec in specs}
    for spec in wanted.values():
        _check_spec(spec)
    if not wanted:
        return {}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [_row(spec) for spec in sorted(wanted.values(), key=lambda spec: spec.code)]
    await session.execute(insert(account).values(rows).on_conflict_do_nothing())
    found = await get_accounts(session, list(wanted))
    for code, spec in wanted.items():
        if found[code].spec != spec:
            raise AccountConflict(f"account {code} exists as {found[code].spec}, not {spec}")
    return found


async def open_account(session: AsyncSession, spec: AccountSpec) -> Account:
    """Open one account (or return it if it exists with the same attributes)."""
    return (await open_accounts(session, [spec]))[spec.code]


async def get_accounts(session: AsyncSession, codes: Sequence[str]) -> dict[str, Account]:
    """The accounts with these codes, by code; AccountNotFound names the first missing one."""
    rows = await session.execute(sa.select(*_IDENTITY).where(account.c.code.in_(codes)))
    found = {row.code: _account(row) for row in rows}
    missing = [code for code in codes if code not in found]
    if missing:
        raise AccountNotFound(f"no account {missing[0]}")
    return found


async def get_account(session: AsyncSession, code: str) -> Account:
    """The account with this code."""
    return (await get_accounts(session, [code]))[code]


async def get_accounts_by_id(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> Mapping[uuid.UUID, Account]:
    """The accounts with these ids, by id; AccountNotFound names the first missing one."""
    wanted = list(dict.fromkeys(ids))
    rows = await session.execute(sa.select(*_IDENTITY).where(account.c.id.in_(wanted)))
    found = {row.id: _account(row) for row in rows}
    missing = [account_id for account_id in wanted if account_id not in found]
    if missing:
        raise AccountNotFound(f"no account with id {missing[0]}")
    return found
