"""The seeded concurrent simulation, then the ledger's invariants checked from the database.

``VOUCHER_LEDGER_SIM_SEED`` replays a run; ``VOUCHER_LEDGER_SIM_OPERATIONS`` changes its size.
"""

from __future__ import annotations

import os
import random

import pytest
import sqlalchemy as sa

import ledger
from ledger.models import RESOLUTION_KINDS, account, balance_delta, entry, pending_hold, transaction
from tests.ledger.simulation import Simulation
from voucher_service.db import Database
from voucher_service.keys.service import KeyRing


def _seed() -> int:
    return int(os.environ.get("VOUCHER_LEDGER_SIM_SEED") or random.SystemRandom().randrange(2**32))


def _size(default: int) -> int:
    return int(os.environ.get("VOUCHER_LEDGER_SIM_OPERATIONS") or default)


async def _check_invariants(db: Database, keyring: KeyRing, simulation: Simulation) -> None:
    seed = f"(replay with VOUCHER_LEDGER_SIM_SEED={simulation.seed})"
    async with db.unit_of_work(readonly=True) as session:
        # Total debits equal total credits, posted and pending, over all legs.
        signed = sa.case((entry.c.side == "debit", entry.c.amount), else_=-entry.c.amount)
        by_phase = dict(
            (
                await session.execute(
                    sa.select(entry.c.phase, sa.func.sum(signed)).group_by(entry.c.phase)
                )
            ).all()
        )
        assert all(total == 0 for total in by_phase.values()), (by_phase, seed)

        # Every stored balance (row plus unfolded deltas) equals the sum of its legs.
        stored = {row.id: row for row in await session.execute(sa.select(account))}
        deltas = dict(
            (
                await session.execute(
                    sa.select(
                        balance_delta.c.account_id, sa.func.sum(balance_delta.c.credits_posted)
                    ).group_by(balance_delta.c.account_id)
                )
            ).all()
        )
        legs = await session.execute(
            sa.select(
                entry.c.account_id, entry.c.side, entry.c.phase, sa.func.sum(entry.c.amount)
            ).group_by(entry.c.account_id, entry.c.side, entry.c.phase)
        )
        summed: dict[object, list[int]] = {account_id: [0, 0, 0, 0] for account_id in stored}
        for account_id, side, phase, amount in legs:
            column = (0 if phase == "posted" else 2) + (side == "credit")
            summed[account_id][column] += -amount if phase == "release" else amount
        for account_id, row in stored.items():
            totals = [
                row.debits_posted,
                row.credits_posted + (deltas.get(account_id) or 0),
                row.debits_pending,
                row.credits_pending,
            ]
            if account_id not in deltas:
                assert totals == summed[account_id], (row.code, totals, summed[account_id], seed)
            else:
                assert totals[:3] == summed[account_id][:3], (row.code, seed)
            # No limit is violated.
            if row.debits_must_not_exceed_credits:
                assert totals[0] + totals[2] <= totals[1], (row.code, seed)

        # Every hold resolved at most once, and open exactly when unresolved.
        resolutions = (
            await session.execute(
                sa.select(transaction.c.related_id, sa.func.count())
                .where(
                    transaction.c.kind.in_(RESOLUTION_KINDS), transaction.c.status == "committed"
                )
                .group_by(transaction.c.related_id)
            )
        ).all()
        assert all(count == 1 for _, count in resolutions), seed
        holds = set(
            (
                await session.scalars(
                    sa.select(transaction.c.id).where(
                        transaction.c.kind == "hold", transaction.c.status == "committed"
                    )
                )
            ).all()
        )
        still_open = set((await session.scalars(sa.select(pending_hold.c.hold_id))).all())
        assert holds == {hold for hold, _ in resolutions} | still_open, seed
        assert not still_open & {hold for hold, _ in resolutions}, seed

        # What every client was told is what the database holds.
        for client_id, (_, outcome) in simulation.outcomes.items():
            stored_outcome = await ledger.transaction_by_client_id(session, client_id)
            assert stored_outcome is not None, (client_id, seed)
            told = (outcome.transaction.id, outcome.transaction.content_hash)
            assert (stored_outcome.id, stored_outcome.content_hash) == told, (client_id, seed)

        report = await ledger.verify(session, keyring)
        assert report.ok, (report.breaks[:5], seed)


async def _simulate(
    db: Database, keyring: KeyRing, *, operations: int, tasks: int, kill: bool
) -> None:
    simulation = Simulation(db, keyring, seed=_seed(), operations=operations, tasks=tasks)
    print(f"ledger simulation seed={simulation.seed} operations={operations} tasks={tasks}")
    await simulation.setup()
    stats = await simulation.run(kill=kill)
    await simulation.finish()
    print(f"ledger simulation seed={simulation.seed}: retries={simulation.retries} {stats}")
    assert stats.operations >= operations
    assert stats.gave_up <= operations // 100, (stats, simulation.seed)
    assert stats.committed > operations // 4 and stats.refused > 0, (stats, simulation.seed)
    if kill:  # connections died mid-operation and their work was retried under its client id
        assert stats.kills > 0 and simulation.retries > 0, stats
    await _check_invariants(db, keyring, simulation)


@pytest.mark.postgres_only
@pytest.mark.slow
async def test_concurrent_simulation_on_postgres(db: Database, keyring: KeyRing) -> None:
    await _simulate(db, keyring, operations=_size(10_000), tasks=16, kill=True)


async def test_concurrent_simulation_on_sqlite(
    db: Database, keyring: KeyRing, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the PostgreSQL run above is the large one")
    await _simulate(db, keyring, operations=_size(1_500), tasks=8, kill=False)
