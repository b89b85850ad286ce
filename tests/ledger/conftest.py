"""Fixtures for the ledger: a migrated database (each backend), a signing key ring."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from voucher_service.db import Database, create_engine
from voucher_service.keys.service import KeyRing
from voucher_service.settings import Settings


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The test's fresh database, without the HTTP application around it."""
    database = Database(create_engine(settings))
    yield database
    await database.dispose()


@pytest.fixture
def keyring(tmp_path: Path) -> KeyRing:
    keys = KeyRing(tmp_path / "keys")
    keys.ensure()
    return keys
