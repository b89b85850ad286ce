"""Typed helpers that open a programme's accounts and read balances, for ledger tests."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import Account, Balance, chart
from voucher_service.db import Database

T = TypeVar("T")


@dataclass(frozen=True)
class Programme:
    """The chart of accounts of one programme, one voucher, one provider, one enterprise."""

    treasury: Account
    available: Account
    voucher: Account
    provider: Account
    enterprise: Account

    @property
    def accounts(self) -> list[Account]:
        return [self.treasury, self.available, self.voucher, self.provider, self.enterprise]


async def open_programme(session: AsyncSession) -> Programme:
    """Open (or find) the treasury and a fresh programme's accounts."""
    specs = [
        chart.treasury(),
        chart.program_available(uuid.uuid4()),
        chart.voucher(uuid.uuid4()),
        chart.provider_payable(uuid.uuid4()),
        chart.enterprise_payable(uuid.uuid4()),
    ]
    opened = await ledger.open_accounts(session, specs)
    return Programme(*(opened[spec.code] for spec in specs))


async def create_programme(database: Database) -> Programme:
    async with database.unit_of_work() as session:
        return await open_programme(session)


async def balance_of(database: Database, account: Account) -> Balance:
    async with database.unit_of_work(readonly=True) as session:
        return await ledger.balance(session, account.id)


async def available(database: Database, account: Account) -> int:
    return (await balance_of(database, account)).available


def new_client_id(prefix: str = "test") -> str:
    return f"{prefix}:{uuid.uuid4()}"


async def commit(database: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one ledger call in its own unit of work (refusals are committed too)."""
    return await ledger.run_transaction(database.unit_of_work, work)
