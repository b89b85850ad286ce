"""One migration history for both backends, and it agrees with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from voucher_service import migrations
from voucher_service.db import Database
from voucher_service.model_registry import metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_models_and_migrations_agree(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_upgrade_downgrade_upgrade(database: Database, database_url: str) -> None:
    async with database.engine.connect() as connection:
        assert "worker_job" in await connection.run_sync(_tables)
    await database.engine.dispose()

    await migrations.downgrade_async(database_url, "base")
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_tables) <= {"alembic_version"}
    await database.engine.dispose()

    await migrations.upgrade_async(database_url)
    assert await migrations.current_revision(database.engine) == migrations.head_revision()
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
