"""Running and inspecting Alembic migrations from code (CLI, start-up checks, tests)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from voucher_service.db import ensure_sqlite_directory

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url``, found beside the package or in the working dir."""
    for root in (_PROJECT_ROOT, Path.cwd()):
        ini = root / "alembic.ini"
        if ini.exists():
            config = Config(str(ini))
            config.set_main_option("script_location", str(root / "alembic"))
            break
    else:  # pragma: no cover - only a broken install gets here
        raise FileNotFoundError("alembic.ini not found beside the package or in the working dir")
    # "%" is the ini file's interpolation character.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration in the code base."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (blocking; call from outside an event loop)."""
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def upgrade_async(database_url: str) -> None:
    """Upgrade from inside a running event loop (Alembic runs its own loop on a thread)."""
    await asyncio.to_thread(upgrade, database_url)


async def downgrade_async(database_url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, database_url, revision)
