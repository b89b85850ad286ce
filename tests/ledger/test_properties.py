"""Property test: random sequences of ledger operations against a small model of the ledger.

After every step every account's four totals equal the model's, the trial balance is balanced,
and a replayed client id returns exactly what it returned the first time.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import Account, AccountSpec, Balance, Transfer
from tests.ledger.factories import commit
from voucher_service.db import Database

HOUR = timedelta(hours=1)
ACCOUNTS = 5  # 0 unlimited (a treasury), 1-3 limited, 4 limited and hot (a provider)

operation = st.one_of(
    st.tuples(
        st.just("transfer"),
        st.integers(0, ACCOUNTS - 1),
        st.integers(1, ACCOUNTS - 1),
        st.integers(1, 60),
    ),
    st.tuples(
        st.just("hold"),
        st.integers(0, ACCOUNTS - 1),
        st.integers(1, ACCOUNTS - 1),
        st.integers(1, 60),
    ),
    st.tuples(st.just("capture"), st.integers(0, 20), st.none() | st.integers(1, 60), st.just(0)),
    st.tuples(st.just("void"), st.integers(0, 20), st.just(0), st.just(0)),
    st.tuples(st.just("reverse"), st.integers(0, 20), st.just(0), st.just(0)),
    st.tuples(st.just("replay"), st.integers(0, 30), st.just(0), st.just(0)),
    st.tuples(st.just("fold"), st.just(0), st.just(0), st.just(0)),
)


@dataclass
class Model:
    """What the ledger should hold: totals per account, open holds, reversed transactions."""

    accounts: list[Account]
    totals: dict[uuid.UUID, list[int]] = field(default_factory=dict)
    holds: dict[uuid.UUID, tuple[Account, Account, int]] = field(default_factory=dict)
    resolved: set[uuid.UUID] = field(default_factory=set)
    reversed: set[uuid.UUID] = field(default_factory=set)

    def apply(self, legs: list[tuple[Account, str, str, int]]) -> bool:
        """Apply legs all or nothing, as the ledger does; False if a limit refuses them."""
        new = {a.id: list(self.totals.get(a.id, [0, 0, 0, 0])) for a in self.accounts}
        for target, side, phase, amount in legs:
            column = {"posted": 0, "pending": 2, "release": 2}[phase] + (side == "credit")
            new[target.id][column] += -amount if phase == "release" else amount
        for target in self.accounts:
            dp, cp, dpe, _ = new[target.id]
            if target.debits_must_not_exceed_credits and dp + dpe > cp:
                return False
        self.totals = new
        return True

    def balance(self, target: Account) -> Balance:
        return Balance(*self.totals.get(target.id, [0, 0, 0, 0]))


async def _open(db: Database) -> list[Account]:
    tag = uuid.uuid4()
    specs = [AccountSpec(f"prop:{tag}:0")]
    specs += [
        AccountSpec(f"prop:{tag}:{i}", debits_must_not_exceed_credits=True) for i in (1, 2, 3)
    ]
    specs.append(AccountSpec(f"prop:{tag}:4", debits_must_not_exceed_credits=True, hot=True))
    opened = await commit(db, lambda s: ledger.open_accounts(s, specs))
    return [opened[spec.code] for spec in specs]


Work = Callable[[AsyncSession], Awaitable[ledger.Outcome]]


class Run:
    """Drives one example: performs each step on the ledger and on the model."""

    def __init__(self, db: Database, model: Model) -> None:
        self.db = db
        self.model = model
        self.done: list[tuple[Work, ledger.Outcome]] = []
        self.posted: list[ledger.Outcome] = []
        self.hold_ids: list[uuid.UUID] = []

    async def run(self, work: Work) -> ledger.Outcome:
        outcome = await commit(self.db, work)
        self.done.append((work, outcome))
        return outcome

    async def step(self, kind: str, first: int, second: Any, amount: int) -> None:
        a = self.model.accounts
        client_id = f"prop:{uuid.uuid4()}"
        if kind in ("transfer", "hold"):
            debit, credit = a[first], a[(first + second) % ACCOUNTS]
            if debit == credit:
                return
            phase = "posted" if kind == "transfer" else "pending"
            expected = self.model.apply(
                [(debit, "debit", phase, amount), (credit, "credit", phase, amount)]
            )
            moved = Transfer(debit, credit, amount)
            if kind == "transfer":
                outcome = await self.run(lambda s: ledger.transfer(s, client_id, [moved]))
                if outcome.ok:
                    self.posted.append(outcome)
            else:
                outcome = await self.run(lambda s: ledger.hold(s, client_id, moved, timeout=HOUR))
                if outcome.ok:
                    self.model.holds[outcome.transaction.id] = (debit, credit, amount)
                    self.hold_ids.append(outcome.transaction.id)
            assert outcome.ok == expected
            assert expected or isinstance(outcome.refusal, ledger.InsufficientBalance)
        elif kind in ("capture", "void") and self.hold_ids:
            await self.resolve(kind, self.hold_ids[first % len(self.hold_ids)], second, client_id)
        elif kind == "reverse" and self.posted:
            await self.reverse(self.posted[first % len(self.posted)], client_id)
        elif kind == "replay" and self.done:
            work, first_outcome = self.done[first % len(self.done)]
            again = await commit(self.db, work)
            assert again.replayed and again.transaction == first_outcome.transaction
        elif kind == "fold":
            await commit(self.db, lambda s: ledger.fold_hot_accounts(s))

    async def resolve(
        self, kind: str, hold_id: uuid.UUID, amount: int | None, client_id: str
    ) -> None:
        debit, credit, held = self.model.holds[hold_id]
        if kind == "void":
            outcome = await self.run(lambda s: ledger.void(s, client_id, hold_id))
            posted = 0
        else:
            outcome = await self.run(lambda s: ledger.capture(s, client_id, hold_id, amount=amount))
            posted = held if amount is None else amount
        if hold_id in self.model.resolved:
            assert isinstance(outcome.refusal, ledger.HoldAlreadyResolved)
            return
        if posted > held:
            assert isinstance(outcome.refusal, ledger.AmountExceedsHold)
            return
        legs = [(debit, "debit", "release", held), (credit, "credit", "release", held)]
        if posted:
            legs += [(debit, "debit", "posted", posted), (credit, "credit", "posted", posted)]
            self.posted.append(outcome)
        assert self.model.apply(legs) and outcome.ok
        self.model.resolved.add(hold_id)

    async def reverse(self, original: ledger.Outcome, client_id: str) -> None:
        by_id = {account.id: account for account in self.model.accounts}
        swap = {"debit": "credit", "credit": "debit"}
        legs = [
            (by_id[leg.account_id], swap[leg.side], "posted", leg.amount)
            for leg in original.transaction.legs
            if leg.phase == "posted"
        ]
        outcome = await self.run(lambda s: ledger.reverse(s, client_id, original.transaction.id))
        if original.transaction.id in self.model.reversed:
            assert isinstance(outcome.refusal, ledger.AlreadyReversed)
        elif self.model.apply(legs):
            assert outcome.ok
            self.model.reversed.add(original.transaction.id)
        else:
            assert isinstance(outcome.refusal, ledger.InsufficientBalance)

    async def check(self) -> None:
        async with self.db.unit_of_work(readonly=True) as session:
            for target in self.model.accounts:
                assert await ledger.balance(session, target.id) == self.model.balance(target), (
                    target.code
                )
            assert (
                await ledger.trial_balance(session, code_prefix=self.model.accounts[0].code[:-1])
            ).balanced


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=25))
async def test_random_operations_match_the_model(
    db: Database, operations: list[tuple[str, int, Any, int]]
) -> None:
    run = Run(db, Model(await _open(db)))
    # Money to move: the treasury funds every limited account first.
    for target in run.model.accounts[1:]:
        await run.step("transfer", 0, run.model.accounts.index(target), 100)
    for kind, first, second, amount in operations:
        await run.step(kind, first, second, amount)
        await run.check()
