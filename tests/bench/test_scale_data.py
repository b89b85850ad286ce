"""The scale benchmark's bulk loader leaves a ledger that verifies, and every measured step runs."""

from __future__ import annotations

import asyncpg
import pytest

import ledger
from bench.scale import measure
from bench.scale_data import COVERED, load, loaded_from
from voucher_service.db import Database, create_engine
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings

pytestmark = pytest.mark.postgres_only


async def test_generated_redemptions_verify_and_the_benchmark_runs(
    settings: Settings, database_url: str, keyring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        loaded = await load(connection, 500, 20, 5)
        again = await loaded_from(connection)
    finally:
        await connection.close()
    assert again == loaded
    assert loaded.big_provider_orders == 250
    database = Database(create_engine(settings))
    try:
        async with database.unit_of_work(readonly=True) as session:
            report = await ledger.verify(session, keyring)
            payable = await ledger.balance(
                session, loaded.accounts[f"provider:{loaded.providers[0]}:payable"]
            )
        assert report.ok, report.first_break
        assert report.transactions == 1 + 20 + 500
        assert payable.credits_posted == 250 * COVERED
        await measure(database, loaded, 400, commit=True)
    finally:
        await database.dispose()
    printed = capsys.readouterr().out
    assert "250 items, net 250000 fen" in printed
    assert "400 lines: 249 matched, 150 missing ours, 0 missing theirs, 1 mismatched" in printed
    assert "balanced=True" in printed
