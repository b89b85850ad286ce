"""A seeded, randomised, concurrent simulation of a voucher programme's ledger traffic.

Many tasks run random operations of the chart of flows (fund, issue, hold, capture, void,
refund, claim, settle, expire, reverse), retry with the same client id when their connection
dies, replay earlier client ids (same content: same outcome; other content: refused), and run
the worker jobs (expire holds, fold hot accounts, seal). On PostgreSQL a killer task ends random
connections with ``pg_terminate_backend``. The seed picks every choice; print it to replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import ledger
from ledger import Account, Transfer, chart
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing

Work = Callable[[AsyncSession], Awaitable[Any]]
ATTEMPTS = 12


@dataclass
class Stats:
    operations: int = 0
    committed: int = 0
    refused: int = 0
    replays: int = 0
    conflicts: int = 0
    gave_up: int = 0
    kills: int = 0
    jobs: int = 0
    attempts: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class Chart:
    treasury: Account
    programmes: list[Account]
    vouchers: list[Account]
    providers: list[Account]
    enterprises: list[Account]
    programme_of: dict[uuid.UUID, Account] = field(default_factory=dict)


class Simulation:
    """Runs ``operations`` random operations over ``tasks`` concurrent tasks."""

    def __init__(
        self, db: Database, keyring: KeyRing, *, seed: int, operations: int, tasks: int
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.seed = seed
        self.operations = operations
        self.tasks = tasks
        self.stats = Stats()
        self.outcomes: dict[str, tuple[Work, Any]] = {}
        self.holds: list[uuid.UUID] = []
        self.captures: list[ledger.Outcome] = []
        self.posted: list[uuid.UUID] = []
        self._next = 0

    async def setup(self) -> None:
        specs = [chart.treasury()]
        programmes = [chart.program_available(uuid.uuid4()) for _ in range(3)]
        vouchers = [chart.voucher(uuid.uuid4()) for _ in range(24)]
        providers = [chart.provider_payable(uuid.uuid4()) for _ in range(3)]
        enterprises = [chart.enterprise_payable(uuid.uuid4()) for _ in range(4)]
        specs += programmes + vouchers + providers + enterprises
        async with self.db.unit_of_work() as session:
            opened = await ledger.open_accounts(session, specs)
        self.chart = Chart(
            opened["treasury"],
            [opened[s.code] for s in programmes],
            [opened[s.code] for s in vouchers],
            [opened[s.code] for s in providers],
            [opened[s.code] for s in enterprises],
        )
        for index, voucher in enumerate(self.chart.vouchers):
            self.chart.programme_of[voucher.id] = self.chart.programmes[index % 3]

    async def run(self, *, kill: bool) -> Stats:
        """Run every operation; with ``kill``, end random connections meanwhile (PostgreSQL)."""
        stop = asyncio.Event()
        killer = asyncio.ensure_future(self._kill_connections(stop)) if kill else None
        try:
            await asyncio.gather(*(self._worker(index) for index in range(self.tasks)))
        finally:
            stop.set()
            if killer is not None:
                await killer
        return self.stats

    async def _worker(self, index: int) -> None:
        rng = random.Random(f"{self.seed}:{index}")
        while self._next < self.operations:
            self._next += 1
            await self._operation(rng)

    async def _commit(self, kind: str, client_id: str | None, work: Work) -> Any:
        """Run ``work`` with retries; record its final outcome under its client id."""
        self.stats.operations += 1
        self.stats.by_kind[kind] = self.stats.by_kind.get(kind, 0) + 1
        try:
            result = await ledger.run_transaction(self._unit_of_work, work, attempts=ATTEMPTS)
        except DBAPIError as error:
            # It may or may not have committed; the checks after the run do not depend on it.
            self.stats.gave_up += 1
            self.stats.errors.append(f"{kind}: {str(error.orig).splitlines()[0]}")
            return None
        if isinstance(result, ledger.Outcome):
            self.stats.committed += result.ok
            self.stats.refused += not result.ok
            if client_id is not None:
                self.outcomes[client_id] = (work, result)
        return result

    def _unit_of_work(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
        """The database's unit of work, counted: attempts beyond operations are retries."""
        self.stats.attempts += 1
        return self.db.unit_of_work()

    @property
    def retries(self) -> int:
        return self.stats.attempts - self.stats.operations

    def _amount(self, rng: random.Random, high: int) -> int:
        return rng.randint(1, high)

    async def _operation(self, rng: random.Random) -> None:
        choice = rng.random()
        c = self.chart
        client_id = f"sim:{self.seed}:{uuid.UUID(int=rng.getrandbits(128))}"
        if choice < 0.05:
            programme = rng.choice(c.programmes)
            moved = Transfer(c.treasury, programme, self._amount(rng, 200_000))
            await self._transfer("fund", client_id, [moved])
        elif choice < 0.17:
            voucher = rng.choice(c.vouchers)
            moved = Transfer(c.programme_of[voucher.id], voucher, self._amount(rng, 20_000))
            await self._transfer("issue", client_id, [moved])
        elif choice < 0.42:
            await self._hold(rng, client_id)
        elif choice < 0.55 and self.holds:
            await self._capture(rng, client_id)
        elif choice < 0.60 and self.holds:
            hold_id = rng.choice(self.holds)
            await self._commit("void", client_id, lambda s: ledger.void(s, client_id, hold_id))
        elif choice < 0.64 and self.captures:
            await self._refund(rng, client_id)
        elif choice < 0.70:
            voucher = rng.choice(c.vouchers)
            moved = Transfer(voucher, rng.choice(c.enterprises), self._amount(rng, 5_000))
            await self._transfer("claim", client_id, [moved])
        elif choice < 0.73:
            payee = rng.choice(c.providers + c.enterprises)
            await self._sweep("settle", client_id, payee, c.treasury)
        elif choice < 0.75:
            voucher = rng.choice(c.vouchers)
            await self._sweep("expire_voucher", client_id, voucher, c.programme_of[voucher.id])
        elif choice < 0.78 and self.posted:
            original = rng.choice(self.posted)
            await self._commit(
                "reverse", client_id, lambda s: ledger.reverse(s, client_id, original)
            )
        elif choice < 0.90 and self.outcomes:
            await self._replay(rng)
        else:
            await self._job(rng)

    async def _transfer(self, kind: str, client_id: str, moved: list[Transfer]) -> None:
        outcome = await self._commit(
            kind, client_id, lambda s: ledger.transfer(s, client_id, moved)
        )
        if outcome is not None and outcome.ok:
            self.posted.append(outcome.transaction.id)

    async def _sweep(self, kind: str, client_id: str, source: Account, target: Account) -> None:
        outcome = await self._commit(
            kind, client_id, lambda s: ledger.sweep(s, client_id, source, target)
        )
        if outcome is not None and outcome.ok:
            self.posted.append(outcome.transaction.id)

    async def _hold(self, rng: random.Random, client_id: str) -> None:
        held = Transfer(
            rng.choice(self.chart.vouchers),
            rng.choice(self.chart.providers),
            self._amount(rng, 8_000),
        )
        short = rng.random() < 0.25
        timeout = timedelta(milliseconds=rng.randint(20, 300)) if short else timedelta(minutes=10)
        outcome = await self._commit(
            "hold", client_id, lambda s: ledger.hold(s, client_id, held, timeout=timeout)
        )
        if outcome is not None and outcome.ok:
            self.holds.append(outcome.transaction.id)

    async def _capture(self, rng: random.Random, client_id: str) -> None:
        hold_id = rng.choice(self.holds)
        amount = None if rng.random() < 0.5 else self._amount(rng, 8_000)
        outcome = await self._commit(
            "capture", client_id, lambda s: ledger.capture(s, client_id, hold_id, amount=amount)
        )
        if outcome is not None and outcome.ok:
            self.captures.append(outcome)
            self.posted.append(outcome.transaction.id)

    async def _refund(self, rng: random.Random, client_id: str) -> None:
        capture = rng.choice(self.captures)
        voucher, provider = (
            {leg.side: leg.account_id for leg in capture.transaction.legs if leg.phase == "posted"}[
                side
            ]
            for side in ("debit", "credit")
        )
        by_id = {a.id: a for a in self.chart.vouchers + self.chart.providers}
        moved = Transfer(by_id[provider], by_id[voucher], self._amount(rng, 2_000))
        related = capture.transaction.id
        await self._commit(
            "refund",
            client_id,
            lambda s: ledger.transfer(
                s, client_id, [moved], related_id=related, reference="refund"
            ),
        )

    async def _replay(self, rng: random.Random) -> None:
        client_id = rng.choice(sorted(self.outcomes))
        work, first = self.outcomes[client_id]
        self.stats.replays += 1
        again = await self._commit("replay", None, work)
        if again is not None:
            assert again.replayed, f"seed {self.seed}: {client_id} ran twice"
            same = (again.transaction.id, again.transaction.content_hash)
            assert same == (first.transaction.id, first.transaction.content_hash), (
                f"seed {self.seed}: {client_id} changed"
            )
        if rng.random() < 0.3:
            other = Transfer(self.chart.treasury, self.chart.programmes[0], 1)
            try:
                await self._commit(
                    "conflict", None, lambda s: ledger.transfer(s, client_id, [other])
                )
            except ledger.IdempotencyConflict:
                self.stats.conflicts += 1
            else:
                raise AssertionError(f"seed {self.seed}: {client_id} reused without a conflict")

    async def _job(self, rng: random.Random) -> None:
        self.stats.jobs += 1
        job = rng.choice(["expire", "fold", "seal"])
        if job == "expire":
            await self._commit("job:expire", None, lambda s: ledger.expire_due_holds(s, limit=50))
        elif job == "fold":
            await self._commit("job:fold", None, lambda s: ledger.fold_hot_accounts(s))
        else:
            await self._commit("job:seal", None, lambda s: ledger.seal_checkpoint(s, self.keyring))

    async def _kill_connections(self, stop: asyncio.Event) -> None:
        rng = random.Random(f"{self.seed}:killer")
        url = self.db.engine.url.set(drivername="postgresql")
        admin = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=rng.uniform(0.3, 1.0))
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' ORDER BY random() LIMIT 1) victims"
                )
                self.stats.kills += killed or 0
        finally:
            await admin.close()

    async def finish(self) -> None:
        """Expire what is due, fold and seal everything, as the worker eventually would."""
        await asyncio.sleep(0.35)  # the longest short hold times out
        while await ledger.run_transaction(
            self.db.unit_of_work, lambda s: ledger.expire_due_holds(s)
        ):
            pass
        await ledger.run_transaction(
            self.db.unit_of_work, lambda s: ledger.fold_hot_accounts(s, max_accounts=1000)
        )
        while await ledger.run_transaction(
            self.db.unit_of_work, lambda s: ledger.seal_checkpoint(s, self.keyring)
        ):
            pass
