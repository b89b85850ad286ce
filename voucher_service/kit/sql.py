"""Small SQL helpers that differ by dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_conflicts(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the dialect the session is bound to."""
    bind = session.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    return insert(model).values(rows).on_conflict_do_nothing()
