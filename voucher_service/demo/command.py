"""``voucher-service demo``: fill the embedded database with a realistic programme, once.

It refuses a database that already holds the demo (or anything else: it is for trying the
service out, never for a database in use), and prints how to sign in as each role.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy import func
from sqlmodel import select

from voucher_service.db import Database, create_engine
from voucher_service.demo import people
from voucher_service.demo.story import tell
from voucher_service.settings import Settings
from voucher_service.users.models import User


async def fill(settings: Settings) -> people.Cast | None:
    """The demo in one unit of work (all or nothing); None if the database is not empty."""
    database = Database(create_engine(settings))
    try:
        async with database.unit_of_work() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                return None
            cast = await people.create_cast(session, settings)
            await tell(session, settings, cast)
            return cast
    finally:
        await database.dispose()


def sign_in_table(cast: people.Cast, base_url: str) -> list[str]:
    lines = [
        f"Demo ready. Open {base_url.rstrip('/')}/portal/login and sign in with password "
        f"{people.PASSWORD} as:",
    ]
    for user in cast.people.values():
        lines.append(f"  {user.role:<14} {user.email:<34} {user.name}")
    return lines


def demo(
    force_base_url: Annotated[
        str | None, typer.Option("--base-url", help="where the portal will be reachable")
    ] = None,
) -> None:
    """Fill the embedded database with a demo programme, start-ups, providers and reviews."""
    from voucher_service.cli import check_database, fail, load_settings

    settings = load_settings()
    check_database(settings, migrate=settings.is_sqlite)
    cast = asyncio.run(fill(settings))
    if cast is None:
        fail(
            "the database already holds users: the demo fills only an empty database "
            "(delete ./var/ to start again)",
            code=0,
        )
    for line in sign_in_table(cast, force_base_url or "http://127.0.0.1:8000"):
        typer.echo(line)
