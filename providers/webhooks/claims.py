"""Claiming due events and recording attempt results: the worker's SQL.

Claim: in one short transaction, ``SELECT ... FOR UPDATE OF webhook_event SKIP LOCKED`` picks due
pending events (oldest first) that no other worker is claiming, and marks them claimed with a
lease: ``next_attempt_at`` moves to the end of the lease and ``attempt_count`` goes up. The
transaction commits before any HTTP request, so no lock is held while we wait on a provider, and
another worker skips the event until its lease runs out. The lease is longer than an attempt can
last (the attempt timeout is enforced around the whole request), so two workers never send the
same event at the same time; if a worker dies, the lease runs out and another worker sends the
event again: at least once. A claim that finds ``claimed_at`` still set records that the previous
attempt was lost.

Record: one transaction per batch of finished attempts inserts the attempt rows and updates each
event only if it still carries the attempt's ``attempt_count`` (a fence: a result that arrives
after its lease was taken over changes nothing).

SQLite has no row locks; there the ``BEGIN IMMEDIATE`` of every writing unit of work serialises
claims instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import new_id
from providers.webhooks.delivery import AttemptResult, Claimed
from providers.webhooks.endpoints import disable_endpoint, signing_keys
from providers.webhooks.events import TEST_EVENT_TYPE
from providers.webhooks.models import (
    DEAD,
    DELIVERED,
    GONE,
    LOST,
    OK,
    PENDING,
    SKIPPED,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)
from providers.webhooks.schedule import RetryPolicy
from providers.webhooks.secrets import SecretBox

LOST_ERROR = "lost: the worker sending it stopped before recording the outcome"


@dataclass
class ClaimBatch:
    claimed: list[Claimed] = field(default_factory=list)
    skipped: int = 0
    dead: int = 0
    lost: int = 0


async def has_due(session: AsyncSession, now: datetime) -> bool:
    """Whether any event is due (a cheap read before taking a write lock on SQLite)."""
    query = select(col(WebhookEvent.id)).where(
        col(WebhookEvent.status) == PENDING, col(WebhookEvent.next_attempt_at) <= now
    )
    return (await session.scalars(query.limit(1))).first() is not None


async def claim_due(
    session: AsyncSession,
    box: SecretBox,
    *,
    limit: int,
    now: datetime,
    lease_until: datetime,
    worker_id: str,
) -> ClaimBatch:
    """Claim up to ``limit`` due events; settle those that cannot be sent (no endpoint...)."""
    event, endpoint = WebhookEvent, WebhookEndpoint
    query = (
        select(event, endpoint)
        .outerjoin(endpoint, col(endpoint.provider_id) == col(event.provider_id))
        .where(col(event.status) == PENDING, col(event.next_attempt_at) <= now)
        .order_by(col(event.next_attempt_at), col(event.id))
        .limit(limit)
        .with_for_update(of=event, skip_locked=True)
    )
    rows = (await session.execute(query)).all()
    batch = ClaimBatch()
    lost = [_lost_attempt(row, target, now) for row, target in rows if row.claimed_at is not None]
    skipped: list[uuid.UUID] = []
    disabled: list[uuid.UUID] = []
    keys: dict[uuid.UUID, tuple[bytes, ...]] = {}
    for row, target in rows:
        if target is None or not _subscribed(target, row.event_type):
            skipped.append(row.id)
        elif target.disabled_at is not None:
            disabled.append(row.id)
        else:
            if target.id not in keys:
                keys[target.id] = tuple(signing_keys(box, target, now))
            batch.claimed.append(_claimed(row, target, keys[target.id]))
    await _mark_claimed(session, [c.event_id for c in batch.claimed], now, lease_until, worker_id)
    await _settle(session, skipped, SKIPPED, "no endpoint, or not subscribed to this type", now)
    await _settle(session, disabled, DEAD, "endpoint disabled", now)
    if lost:
        await session.execute(insert(WebhookAttempt), lost)
    batch.skipped, batch.dead, batch.lost = len(skipped), len(disabled), len(lost)
    return batch


def _subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return event_type == TEST_EVENT_TYPE or event_type in endpoint.event_types


def _claimed(row: WebhookEvent, endpoint: WebhookEndpoint, keys: tuple[bytes, ...]) -> Claimed:
    return Claimed(
        event_id=row.id,
        provider_id=row.provider_id,
        event_type=row.event_type,
        payload=row.payload,
        attempt_count=row.attempt_count + 1,
        round_attempt=row.round_attempt_count + 1,
        url=endpoint.url,
        keys=keys,
    )


def _lost_attempt(
    row: WebhookEvent, endpoint: WebhookEndpoint | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "created_at": row.claimed_at or now,
        "event_id": row.id,
        "provider_id": row.provider_id,
        "attempt_number": row.attempt_count,
        "outcome": LOST,
        "url": endpoint.url if endpoint else "",
        "error": LOST_ERROR,
        "next_attempt_at": now,
        "worker_id": row.claimed_by,
    }


async def _mark_claimed(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    now: datetime,
    lease_until: datetime,
    worker_id: str,
) -> None:
    if not ids:
        return
    await session.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id).in_(ids))
        .values(
            attempt_count=col(WebhookEvent.attempt_count) + 1,
            round_attempt_count=col(WebhookEvent.round_attempt_count) + 1,
            next_attempt_at=lease_until,
            claimed_at=now,
            claimed_by=worker_id,
        )
        .execution_options(synchronize_session=False)
    )


async def _settle(
    session: AsyncSession, ids: Sequence[uuid.UUID], status: str, reason: str, now: datetime
) -> None:
    if not ids:
        return
    await session.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id).in_(ids))
        .values(
            status=status,
            next_attempt_at=None,
            claimed_at=None,
            claimed_by=None,
            last_error=reason,
            dead_lettered_at=now if status == DEAD else None,
        )
        .execution_options(synchronize_session=False)
    )


# Core, not ORM: executed with a list of parameter sets it is one executemany, and its WHERE
# carries the fence (the ORM's bulk update by primary key would not).
_EVENTS: Table = WebhookEvent.__table__  # type: ignore[attr-defined]
_FENCED_UPDATE = (
    update(_EVENTS)
    .where(
        _EVENTS.c.id == bindparam("b_id"),
        _EVENTS.c.attempt_count == bindparam("b_attempt"),
        _EVENTS.c.status == PENDING,
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        claimed_at=None,
        claimed_by=None,
        last_attempt_at=bindparam("b_started"),
        last_status_code=bindparam("b_code"),
        last_error=bindparam("b_error"),
        delivered_at=bindparam("b_delivered"),
        dead_lettered_at=bindparam("b_dead"),
    )
)


async def record_results(
    session: AsyncSession,
    results: Sequence[AttemptResult],
    policy: RetryPolicy,
    *,
    worker_id: str,
) -> None:
    """Log every attempt and move each event on: delivered, retry later, or dead-lettered."""
    if not results:
        return
    attempts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for result in results:
        next_at = _next_attempt(result, policy)
        attempts.append(_attempt_row(result, next_at, worker_id))
        updates.append(_event_update(result, next_at))
    await session.execute(insert(WebhookAttempt), attempts)
    await session.execute(_FENCED_UPDATE, updates)
    for result in results:
        if result.outcome == GONE:
            await disable_endpoint(
                session,
                result.claimed.provider_id,
                result.claimed.url,
                reason="it answered 410 Gone",
                event_id=result.claimed.event_id,
                now=result.finished_at,
            )


def _next_attempt(result: AttemptResult, policy: RetryPolicy) -> datetime | None:
    if result.outcome in (OK, GONE):
        return None
    return policy.next_attempt_at(
        result.claimed.round_attempt, result.finished_at, result.retry_after
    )


def _attempt_row(result: AttemptResult, next_at: datetime | None, worker_id: str) -> dict[str, Any]:
    return {
        "id": new_id(),
        "created_at": result.started_at,
        "event_id": result.claimed.event_id,
        "provider_id": result.claimed.provider_id,
        "attempt_number": result.claimed.attempt_count,
        "outcome": result.outcome,
        "url": result.claimed.url,
        "status_code": result.status_code,
        "latency_ms": result.latency_ms,
        "error": result.error,
        "next_attempt_at": next_at,
        "worker_id": worker_id,
    }


def _event_update(result: AttemptResult, next_at: datetime | None) -> dict[str, Any]:
    if result.outcome == OK:
        status = DELIVERED
    else:
        status = PENDING if next_at is not None else DEAD
    return {
        "b_id": result.claimed.event_id,
        "b_attempt": result.claimed.attempt_count,
        "b_status": status,
        "b_next": next_at,
        "b_started": result.started_at,
        "b_code": result.status_code,
        "b_error": result.error,
        "b_delivered": result.finished_at if status == DELIVERED else None,
        "b_dead": result.finished_at if status == DEAD else None,
    }
