"""Opening and finding accounts; the chart of accounts of a programme."""

from __future__ import annotations

import uuid

import pytest

import ledger
from ledger import AccountSpec, chart
from tests.ledger.factories import commit
from voucher_service.db import Database


async def test_opening_is_idempotent(db: Database) -> None:
    spec = chart.voucher(uuid.uuid4())
    first = await commit(db, lambda s: ledger.open_account(s, spec))
    again = await commit(db, lambda s: ledger.open_account(s, spec))
    assert first == again and first.spec == spec
    assert first.debits_must_not_exceed_credits and not first.hot
    async with db.unit_of_work(readonly=True) as session:
        assert await ledger.get_account(session, spec.code) == first
        assert await ledger.get_accounts_by_id(session, [first.id, first.id]) == {first.id: first}
        assert await ledger.open_accounts(session, []) == {}


async def test_an_account_cannot_be_reopened_differently(db: Database) -> None:
    code = f"voucher:{uuid.uuid4()}"
    await commit(
        db, lambda s: ledger.open_account(s, AccountSpec(code, debits_must_not_exceed_credits=True))
    )
    with pytest.raises(ledger.AccountConflict, match=code):
        await commit(db, lambda s: ledger.open_account(s, AccountSpec(code)))


@pytest.mark.parametrize(
    "spec",
    [
        AccountSpec(""),
        AccountSpec("x" * 201),
        AccountSpec("a", currency="cny"),
        AccountSpec("a", currency="YUAN"),
        AccountSpec("a", debits_must_not_exceed_credits=True, credits_must_not_exceed_debits=True),
        AccountSpec("a", credits_must_not_exceed_debits=True, hot=True),
    ],
)
async def test_malformed_specs_are_refused(db: Database, spec: AccountSpec) -> None:
    with pytest.raises(ledger.InvalidRequest):
        await commit(db, lambda s: ledger.open_account(s, spec))


async def test_unknown_accounts(db: Database) -> None:
    async with db.unit_of_work(readonly=True) as session:
        with pytest.raises(ledger.AccountNotFound, match="no account nothing-here"):
            await ledger.get_accounts(session, ["nothing-here"])
        with pytest.raises(ledger.AccountNotFound):
            await ledger.get_accounts_by_id(session, [uuid.uuid4()])


def test_chart_codes_and_limits() -> None:
    some = uuid.uuid4()
    assert (
        chart.treasury().code == "treasury" and not chart.treasury().debits_must_not_exceed_credits
    )
    assert chart.treasury("USD").code == "treasury:USD"
    assert chart.program_available(some).code == f"program:{some}:available"
    assert chart.voucher(some).code == f"voucher:{some}"
    assert chart.provider_payable(some) == AccountSpec(
        f"provider:{some}:payable", debits_must_not_exceed_credits=True, hot=True
    )
    assert chart.enterprise_payable(some).code == f"enterprise:{some}:payable"
    limited = [
        chart.program_available,
        chart.voucher,
        chart.provider_payable,
        chart.enterprise_payable,
    ]
    assert all(make(some).debits_must_not_exceed_credits for make in limited)
