"""``voucher-service ledger verify`` passes on a sound ledger and names the row after a tamper."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import ledger
from ledger import Transfer
from ledger.models import entry
from tests.ledger.factories import commit, create_programme, new_client_id
from tests.ledger.tampering import tamper
from voucher_service.cli import app
from voucher_service.db import Database, create_engine
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOUCHER_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("VOUCHER_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("VOUCHER_ENVIRONMENT", raising=False)
    return settings


async def _busy_ledger(settings: Settings, *, tamper_with_legs: bool = False) -> str:
    """Some sealed and unsealed transactions; returns the id of one transfer."""
    keyring = KeyRing(settings.key_dir)
    keyring.ensure()
    database = Database(create_engine(settings))
    try:
        p = await create_programme(database)
        fund = await commit(
            database,
            lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.treasury, p.available, 90)]),
        )
        await commit(database, lambda s: ledger.seal_checkpoint(s, keyring))
        await commit(
            database,
            lambda s: ledger.transfer(s, new_client_id(), [Transfer(p.available, p.voucher, 40)]),
        )
        if tamper_with_legs:
            legs = entry.c.transaction_id == fund.transaction.id
            await tamper(database, sa.update(entry).where(legs).values(amount=9_000))
        return str(fund.transaction.id)
    finally:
        await database.dispose()


def test_verify_passes_on_a_fresh_and_a_busy_ledger(env: Settings) -> None:
    fresh = runner.invoke(app, ["ledger", "verify"])
    assert fresh.exit_code == 0, fresh.output
    assert "no breaks" in fresh.output
    asyncio.run(_busy_ledger(env))
    busy = runner.invoke(app, ["ledger", "verify"])
    assert busy.exit_code == 0, busy.output
    assert "checked 2 transactions, 1 checkpoints" in busy.output


def test_verify_fails_naming_the_tampered_transaction(env: Settings) -> None:
    tampered = asyncio.run(_busy_ledger(env, tamper_with_legs=True))
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 1
    assert f"content_hash: transaction {tampered}" in result.output
    assert "more)" in result.output  # the same tamper also unbalances accounts and a seal
    assert "Traceback" not in result.output
