"""Keyset pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

Ids are UUIDv7, ordered by creation time, so the id alone is the keyset key: every page is one
index range scan whatever its depth.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from voucher_service.kit.problems import ProblemError

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class InvalidCursor(ProblemError):
    status = 400
    code = "invalid_cursor"
    title = "Invalid pagination cursor"
    title_zh = "分页游标无效"


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: uuid.UUID | None


def encode_cursor(last_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("The cursor is not one this service returned.") from exc


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=64, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    params: PageParams,
    *,
    newest_first: bool = True,
) -> tuple[Sequence[Any], str | None]:
    """Run ``statement`` for one page, keyed on ``id_column``; returns rows and the next cursor."""
    if params.after is not None:
        statement = statement.where(
            id_column < params.after if newest_first else id_column > params.after
        )
    order = id_column.desc() if newest_first else id_column.asc()
    rows = (await session.scalars(statement.order_by(order).limit(params.limit + 1))).all()
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        return rows, encode_cursor(getattr(rows[-1], id_column.key))
    return rows, None
