"""Queries of the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlmodel import col, select

from voucher_service.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    action_prefix: str | None = None
    outcome: str | None = None
    actor_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    target_type: str | None = None
    target_id: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def _filters(
    action: Annotated[str | None, Query(max_length=100)] = None,
    action_prefix: Annotated[str | None, Query(max_length=100, examples=["auth."])] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure)$")] = None,
    actor_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    target_type: Annotated[str | None, Query(max_length=50)] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    request_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="inclusive, ISO 8601 with offset")] = None,
    until: Annotated[datetime | None, Query(description="exclusive")] = None,
) -> AuditFilters:
    return AuditFilters(
        action,
        action_prefix,
        outcome,
        actor_id,
        organisation_id,
        target_type,
        target_id,
        request_id,
        since,
        until,
    )


AuditFiltersDep = Annotated[AuditFilters, Depends(_filters)]


def list_query(filters: AuditFilters) -> Select[Any]:
    """Events matching ``filters`` (the caller orders and paginates)."""
    query = select(AuditEvent)
    exact = {
        AuditEvent.action: filters.action,
        AuditEvent.outcome: filters.outcome,
        AuditEvent.actor_id: filters.actor_id,
        AuditEvent.organisation_id: filters.organisation_id,
        AuditEvent.target_type: filters.target_type,
        AuditEvent.target_id: filters.target_id,
        AuditEvent.request_id: filters.request_id,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(col(column) == value)
    if filters.action_prefix:
        query = query.where(
            col(AuditEvent.action).startswith(filters.action_prefix, autoescape=True)
        )
    if filters.since:
        query = query.where(col(AuditEvent.created_at) >= filters.since)
    if filters.until:
        query = query.where(col(AuditEvent.created_at) < filters.until)
    return query
