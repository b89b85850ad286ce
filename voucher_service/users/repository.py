"""Queries of the users domain."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select

from voucher_service.users.models import User


def list_query(
    *,
    organisation_id: uuid.UUID | None = None,
    role: str | None = None,
    status: str | None = None,
    email: str | None = None,
) -> Select[Any]:
    """Users matching the given filters (the caller paginates)."""
    query = select(User)
    if organisation_id:
        query = query.where(col(User.organisation_id) == organisation_id)
    if role:
        query = query.where(col(User.role) == role)
    if status:
        query = query.where(col(User.status) == status)
    if email:
        query = query.where(col(User.email) == email.strip().lower())
    return query
