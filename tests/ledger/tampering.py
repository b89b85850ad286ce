"""Changing ledger rows behind the ledger's back, as an attacker with database rights would.

PostgreSQL: ``session_replication_role = replica`` silences the refusing triggers for one
transaction (a superuser's power). SQLite: the triggers are dropped from the test's copy.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from voucher_service.db import Database


async def tamper(db: Database, *statements: Any) -> None:
    """Run ``statements`` with the ledger's triggers out of the way."""
    async with db.unit_of_work() as session:
        if db.dialect == "postgresql":
            await session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            names = await session.scalars(
                sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            )
            for name in list(names):
                await session.execute(sa.text(f'DROP TRIGGER "{name}"'))
        for statement in statements:
            await session.execute(statement)
