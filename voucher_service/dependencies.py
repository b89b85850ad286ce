"""FastAPI dependencies shared by every domain, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.db import Database
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_database(request: Request) -> Database:
    return request.app.state.database  # type: ignore[no-any-return]


def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring  # type: ignore[no-any-return]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed before the response is sent, rolled back on error.

    Safe methods get a read-only unit of work (never committed); a GET that must record something
    (an audit event, say) opens its own unit of work from the database.
    """
    database = get_database(request)
    async with database.unit_of_work(readonly=request.method in SAFE_METHODS) as session:
        yield session


# The dependencies are coroutines: FastAPI runs a plain function dependency in its thread pool,
# a thread hand-off (and a fight for the GIL) per request for what is an attribute read.
async def _settings(request: Request) -> Settings:
    return get_settings(request)


async def _database(request: Request) -> Database:
    return get_database(request)


async def _keyring(request: Request) -> KeyRing:
    return get_keyring(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
KeyRingDep = Annotated[KeyRing, Depends(_keyring)]
# scope="function": the commit happens before the response is sent, so a failed commit is an
# error response, never a success the client saw while the data was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
