"""Changing ledger rows behind the ledger's back, as an attacker with database rights would.

PostgreSQL: ``session_replication_role = replica`` silences the refusing triggers and foreign
keys for one transaction (a superuser's power). SQLite: a plain connection to the file (foreign
keys off, as SQLite defaults) after dropping the ledger's triggers from the test's copy.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from voucher_service.db import Database


async def tamper(db: Database, *statements: Any) -> None:
    """Run ``statements`` with the ledger's triggers and foreign keys out of the way."""
    if db.dialect == "postgresql":
        async with db.unit_of_work() as session:
            await session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                await session.execute(statement)
        return
    await db.engine.dispose()  # nobody else holds the file while it is rewritten
    await asyncio.to_thread(_tamper_sqlite, db.engine.url.set(drivername="sqlite"), statements)


def _tamper_sqlite(url: sa.URL, statements: tuple[Any, ...]) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            triggers = connection.execute(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            for name in list(triggers):
                connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
            for statement in statements:
                connection.execute(statement)
    finally:
        engine.dispose()
