"""Accounting stories told end to end, every balance checked after every step (DESIGN §4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import ledger
from ledger import Balance, Transfer
from tests.ledger.factories import balance_of, commit, create_programme, new_client_id
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing

CNY = 100  # fen per yuan


async def test_point_of_sale_story(db: Database, keyring: KeyRing) -> None:
    """Fund → issue → hold → partial capture → refund → expiry → voucher expires → payout."""
    p = await create_programme(db)

    # The programme is funded with 1,000,000 CNY from the treasury.
    fund = await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.treasury, p.available, 1_000_000 * CNY)]
        ),
    )
    assert fund.ok
    assert await balance_of(db, p.available) == Balance(credits_posted=1_000_000 * CNY)

    # A voucher of 50,000 CNY is issued from the budget.
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.available, p.voucher, 50_000 * CNY)]
        ),
    )
    assert (await balance_of(db, p.available)).available == 950_000 * CNY
    assert await balance_of(db, p.voucher) == Balance(credits_posted=50_000 * CNY)

    # The provider authorises a redemption of 3,000 CNY: a hold, pending on both sides.
    held = await commit(
        db,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 3_000 * CNY),
            timeout=timedelta(minutes=15),
        ),
    )
    assert held.ok and held.expires_at is not None
    assert await balance_of(db, p.voucher) == Balance(
        credits_posted=50_000 * CNY, debits_pending=3_000 * CNY
    )
    assert (await balance_of(db, p.voucher)).available == 47_000 * CNY
    assert await balance_of(db, p.provider) == Balance(credits_pending=3_000 * CNY)

    # It captures 2,000 CNY; the other 1,000 CNY go back to the voucher.
    captured = await commit(
        db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id, amount=2_000 * CNY)
    )
    assert captured.ok
    assert await balance_of(db, p.voucher) == Balance(
        debits_posted=2_000 * CNY, credits_posted=50_000 * CNY
    )
    assert await balance_of(db, p.provider) == Balance(credits_posted=2_000 * CNY)

    # Before any payout, 500 CNY of it is refunded to the voucher, pointing at the capture.
    refund = await commit(
        db,
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(p.provider, p.voucher, 500 * CNY)],
            related_id=captured.transaction.id,
            reference="refund:1",
        ),
    )
    assert refund.ok and refund.transaction.related_id == captured.transaction.id
    assert await balance_of(db, p.provider) == Balance(
        debits_posted=500 * CNY, credits_posted=2_000 * CNY
    )
    assert (await balance_of(db, p.voucher)).available == 48_500 * CNY

    # A second authorisation is never captured: after its timeout it can only expire.
    forgotten = await commit(
        db,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 1_000 * CNY),
            timeout=timedelta(milliseconds=30),
        ),
    )
    assert (await balance_of(db, p.voucher)).available == 47_500 * CNY
    await asyncio.sleep(0.08)
    late = await commit(db, lambda s: ledger.capture(s, new_client_id(), forgotten.transaction.id))
    assert isinstance(late.refusal, ledger.HoldExpired)
    assert await commit(db, lambda s: ledger.expire_due_holds(s)) == 1
    assert (await balance_of(db, p.voucher)).available == 48_500 * CNY
    assert (await balance_of(db, p.provider)).credits_pending == 0

    # The voucher expires: its remainder returns to the programme's budget.
    swept = await commit(db, lambda s: ledger.sweep(s, new_client_id(), p.voucher, p.available))
    assert swept.ok and swept.transaction.legs[0].amount == 48_500 * CNY
    assert (await balance_of(db, p.voucher)).available == 0
    assert (await balance_of(db, p.available)).available == 998_500 * CNY

    # The provider is paid what it is owed, 1,500 CNY, back against the treasury.
    owed = (await balance_of(db, p.provider)).posted
    assert owed == 1_500 * CNY
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.provider, p.treasury, owed)])
    )
    assert (await balance_of(db, p.provider)).posted == 0
    # The treasury's debit balance is what is committed to programmes and not yet paid out.
    assert (await balance_of(db, p.treasury)).posted == -(998_500 * CNY)

    async with db.unit_of_work(readonly=True) as session:
        trial = await ledger.trial_balance(session)
        assert trial.balanced
        report = await ledger.verify(session, keyring)
    assert report.ok, report.breaks


async def test_reimbursement_story(db: Database) -> None:
    """Fund → issue → claim approved → enterprise paid → voucher revoked; the annual cap query."""
    p = await create_programme(db)
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.treasury, p.available, 200_000 * CNY)]
        ),
    )
    issue = await commit(
        db,
        lambda s: ledger.transfer(
            s,
            new_client_id(),
            [Transfer(p.available, p.voucher, 10_000 * CNY)],
            reference="voucher-issue:v1",
        ),
    )

    # A claim of 6,000 CNY is approved: the voucher pays into the enterprise's payable account.
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.voucher, p.enterprise, 6_000 * CNY)]
        ),
    )
    assert await balance_of(db, p.enterprise) == Balance(credits_posted=6_000 * CNY)
    assert (await balance_of(db, p.voucher)).available == 4_000 * CNY

    # A claim larger than what is left is refused, and nothing moves.
    too_much = await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.voucher, p.enterprise, 4_001 * CNY)]
        ),
    )
    assert isinstance(too_much.refusal, ledger.InsufficientBalance)
    assert (await balance_of(db, p.voucher)).available == 4_000 * CNY

    # Finance pays the enterprise; then the voucher is revoked and its remainder returns.
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.enterprise, p.treasury, 6_000 * CNY)]
        ),
    )
    await commit(db, lambda s: ledger.sweep(s, new_client_id(), p.voucher, p.available))
    assert await balance_of(db, p.enterprise) == Balance(6_000 * CNY, 6_000 * CNY)
    assert (await balance_of(db, p.available)).available == 194_000 * CNY
    assert (await balance_of(db, p.treasury)).posted == -194_000 * CNY

    # The per-enterprise cap reads what was issued to its vouchers in the year from the ledger.
    year = issue.transaction.created_at.replace(month=1, day=1, hour=0, minute=0, second=0)
    next_year = year.replace(year=year.year + 1)
    async with db.unit_of_work(readonly=True) as session:
        issued = await ledger.sum_legs(
            session,
            [p.voucher.id],
            side="credit",
            since=year,
            until=next_year,
            counterparty_prefix="program:",
        )
        by_reference = await ledger.sum_legs(
            session, [p.voucher.id], side="credit", reference_prefix="voucher-issue:"
        )
        last_year = await ledger.sum_legs(session, [p.voucher.id], side="credit", until=year)
    assert issued == by_reference == 10_000 * CNY
    assert last_year == 0


async def test_corrections_story(db: Database) -> None:
    """A mistaken issue is reversed once; a capture is reversed; money spent cannot be."""
    p = await create_programme(db)
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.treasury, p.available, 10_000 * CNY)]
        ),
    )
    wrong = await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.available, p.voucher, 1_000 * CNY)]
        ),
    )

    undone = await commit(db, lambda s: ledger.reverse(s, new_client_id(), wrong.transaction.id))
    assert undone.ok and undone.transaction.related_id == wrong.transaction.id
    assert await balance_of(db, p.voucher) == Balance(1_000 * CNY, 1_000 * CNY)
    assert (await balance_of(db, p.available)).available == 10_000 * CNY
    again = await commit(db, lambda s: ledger.reverse(s, new_client_id(), wrong.transaction.id))
    assert isinstance(again.refusal, ledger.AlreadyReversed)

    # Issue again, redeem, and reverse the capture: both pending and posted effects undone.
    await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.available, p.voucher, 2_000 * CNY)]
        ),
    )
    held = await commit(
        db,
        lambda s: ledger.hold(
            s,
            new_client_id(),
            Transfer(p.voucher, p.provider, 700 * CNY),
            timeout=timedelta(hours=1),
        ),
    )
    captured = await commit(db, lambda s: ledger.capture(s, new_client_id(), held.transaction.id))
    assert (await balance_of(db, p.voucher)).available == 1_300 * CNY
    await commit(db, lambda s: ledger.reverse(s, new_client_id(), captured.transaction.id))
    assert (await balance_of(db, p.voucher)).available == 2_000 * CNY
    assert (await balance_of(db, p.provider)).posted == 0

    # Money already spent from the voucher cannot be pulled back by reversing its issue.
    spend = await commit(
        db,
        lambda s: ledger.transfer(
            s, new_client_id(), [Transfer(p.voucher, p.enterprise, 1_500 * CNY)]
        ),
    )
    assert spend.ok
    issue = await commit(
        db, lambda s: ledger.transaction_by_client_id(s, wrong.transaction.client_id)
    )
    assert issue is not None
    async with db.unit_of_work(readonly=True) as session:
        history = await ledger.statement(session, p.voucher.id, limit=50)
    second_issue = next(
        line
        for line in history.lines
        if line.kind == "transfer" and line.side == "credit" and line.amount == 2_000 * CNY
    )
    blocked = await commit(
        db, lambda s: ledger.reverse(s, new_client_id(), second_issue.transaction_id)
    )
    assert isinstance(blocked.refusal, ledger.InsufficientBalance)
    assert (await balance_of(db, p.voucher)).available == 500 * CNY


async def test_settlement_sweeps_a_hot_payable(db: Database) -> None:
    """Paying a provider everything it is owed: a sweep of its hot payable account."""
    p = await create_programme(db)
    await commit(
        db, lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.voucher, 900)])
    )
    for amount in (100, 250):
        await commit(
            db,
            lambda s, a=amount: ledger.transfer(
                s, new_client_id(), [Transfer(p.voucher, p.provider, a)]
            ),
        )
    paid = await commit(
        db,
        lambda s: ledger.sweep(
            s, new_client_id(), p.provider, p.treasury, reference="settlement:1"
        ),
    )
    assert paid.ok and paid.transaction.legs[0].amount == 350
    assert await balance_of(db, p.provider) == Balance(350, 350)
    assert (await balance_of(db, p.treasury)).posted == -550
