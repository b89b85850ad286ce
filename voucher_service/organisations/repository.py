"""Queries of the organisations domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlmodel import col, select

from voucher_service.organisations.models import Organisation


def list_query(
    *, kind: str | None = None, status: str | None = None, credit_code: str | None = None
) -> Select[Any]:
    """Organisations matching the given filters (the caller paginates)."""
    query = select(Organisation)
    if kind:
        query = query.where(col(Organisation.kind) == kind)
    if status:
        query = query.where(col(Organisation.status) == status)
    if credit_code:
        query = query.where(col(Organisation.credit_code) == credit_code.strip().upper())
    return query
