from __future__ import annotations

import uuid

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ledger.sqltypes import new_id
from voucher_service.db import Database
from voucher_service.kit.pagination import (
    InvalidCursor,
    PageParams,
    decode_cursor,
    encode_cursor,
    paginate,
)


class _Base(DeclarativeBase):
    metadata = MetaData()  # kept apart from the application's metadata


class Item(_Base):
    __tablename__ = "test_pagination_item"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    label: Mapped[str]


def test_cursor_round_trip() -> None:
    some_id = new_id()
    assert decode_cursor(encode_cursor(some_id)) == some_id


@pytest.mark.parametrize("cursor", ["!!!", "abc", "x" * 30])
def test_foreign_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


@pytest.mark.parametrize("newest_first", [True, False])
async def test_pages_walk_every_row_once_in_order(
    database: Database, session: AsyncSession, newest_first: bool
) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    ids = [new_id() for _ in range(7)]
    session.add_all(Item(id=item_id, label=str(n)) for n, item_id in enumerate(ids))
    await session.commit()

    seen: list[uuid.UUID] = []
    params = PageParams(limit=3, after=None)
    pages = 0
    while True:
        rows, cursor = await paginate(
            session, select(Item), Item.id, params, newest_first=newest_first
        )
        pages += 1
        seen.extend(row.id for row in rows)
        if cursor is None:
            break
        params = PageParams(limit=3, after=decode_cursor(cursor))
    assert pages == 3
    assert seen == (sorted(ids, reverse=True) if newest_first else sorted(ids))
