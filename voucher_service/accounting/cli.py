"""``voucher-service ledger ...``: checks an operator runs against the ledger."""

from __future__ import annotations

import asyncio

import typer

import ledger
from voucher_service.db import Database, create_engine
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


async def _verify(settings: Settings, keyring: KeyRing) -> ledger.VerifyReport:
    database = Database(create_engine(settings))
    try:
        async with database.unit_of_work(readonly=True) as session:
            return await ledger.verify(session, keyring)
    finally:
        await database.dispose()


@app.command("verify")
def verify() -> None:
    """Recompute every balance from its legs, check every hash, seal and signature."""
    from voucher_service.cli import check_database, fail, load_settings

    settings = load_settings()
    check_database(settings, migrate=False)
    keyring = KeyRing(settings.key_dir, settings.signing_key_file)
    keyring.ensure()
    report = asyncio.run(_verify(settings, keyring))
    typer.echo(
        f"checked {report.transactions} transactions, {report.checkpoints} checkpoints, "
        f"{report.accounts} accounts, {report.holds} holds"
    )
    if report.first_break is not None:
        others = len(report.breaks) - 1
        more = f" (and {others} more)" if others else ""
        fail(f"ledger verification failed at {report.first_break}{more}")
    typer.echo("ledger verified: no breaks")
