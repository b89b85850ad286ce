"""Recording audit events: one function for every domain, and one for refusals.

Events never carry a password, token or secret: summaries are redacted by key name before they
are stored, and callers pass summaries (ids, states, amounts), never request bodies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Receive, Scope, Send

from voucher_service.audit.models import AuditEvent
from voucher_service.db import Database
from voucher_service.kit.context import current_client_address, current_request_id

logger = logging.getLogger("voucher_service.audit")

REDACTED = "[redacted]"
_SECRET_WORDS = (
    "password",
    "secret",
    "token",
    "assertion",
    "authorization",
    "pepper",
    "private",
    "credential",
    "hash",
    "cookie",
)
_MAX_SUMMARY_CHARS = 16_000


class Outcome(StrEnum):
    success = "success"
    failure = "failure"


@dataclass(frozen=True)
class AuditActor:
    """Who did it: a user, an API client, the system (worker, CLI) or an anonymous caller."""

    type: str
    id: uuid.UUID | None = None
    label: str | None = None
    organisation_id: uuid.UUID | None = None
    role: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> AuditActor:
        return cls(type="system", label=label)

    @classmethod
    def anonymous(cls, label: str | None = None) -> AuditActor:
        return cls(type="anonymous", label=label)


class Auditable(Protocol):
    """Anything that can name itself as an actor (the request's principal does)."""

    @property
    def audit_actor(self) -> AuditActor: ...


Target = tuple[str, object]


def redact(value: Any) -> Any:
    """A copy of ``value`` with every member whose name suggests a secret replaced."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED
            if any(word in str(key).lower() for word in _SECRET_WORDS)
            else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return value


def _summary(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    text = json.dumps(redact(value), sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > _MAX_SUMMARY_CHARS:
        text = json.dumps({"truncated": True, "prefix": text[:_MAX_SUMMARY_CHARS]})
    return text


_CONTENT_FIELDS = (
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_label",
    "organisation_id",
    "role",
    "target_type",
    "target_id",
    "reason",
    "before_json",
    "after_json",
    "request_id",
    "address",
)


def content_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content (everything but the chain columns)."""
    content: dict[str, Any] = {
        "id": str(event.id),
        "created_at": event.created_at.isoformat(timespec="microseconds"),
    }
    for name in _CONTENT_FIELDS:
        value = getattr(event, name)
        content[name] = None if value is None else str(value)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _actor_of(actor: AuditActor | Auditable | None) -> AuditActor:
    if actor is None:
        return AuditActor.system()
    if isinstance(actor, AuditActor):
        return actor
    return actor.audit_actor


def build_event(
    *,
    action: str,
    actor: AuditActor | Auditable | None = None,
    target: Target | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: Outcome = Outcome.success,
    reason: str | None = None,
) -> AuditEvent:
    """An audit event with its content hash, stamped with the request's id and address."""
    who = _actor_of(actor)
    event = AuditEvent(
        action=action,
        outcome=outcome,
        actor_type=who.type,
        actor_id=who.id,
        actor_label=who.label[:254] if who.label else None,
        organisation_id=who.organisation_id,
        role=who.role,
        target_type=target[0] if target else None,
        target_id=str(target[1])[:100] if target else None,
        reason=reason[:200] if reason else None,
        before_json=_summary(before),
        after_json=_summary(after),
        request_id=current_request_id.get(),
        address=(current_client_address.get() or None),
        content_hash="",
    )
    event.content_hash = content_hash(event)
    return event


async def record(
    session: AsyncSession,
    *,
    action: str,
    actor: AuditActor | Auditable | None = None,
    target: Target | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: Outcome = Outcome.success,
    reason: str | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's unit of work (it commits or rolls back with it)."""
    event = build_event(
        action=action,
        actor=actor,
        target=target,
        before=before,
        after=after,
        outcome=outcome,
        reason=reason,
    )
    session.add(event)
    return event


# Events recorded "separately" during a request wait here until the request is over (see
# AuditFlushMiddleware): on SQLite, a second writer inside a writing request would wait for the
# request's own lock, and on every backend the request's unit of work may still roll back.
_deferred: ContextVar[list[AuditEvent] | None] = ContextVar("audit_deferred", default=None)


async def record_separately(
    database: Database,
    *,
    action: str,
    actor: AuditActor | Auditable | None = None,
    target: Target | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    outcome: Outcome = Outcome.failure,
    reason: str | None = None,
) -> None:
    """Record in a unit of work of its own, so the event survives the request's rollback.

    Inside a request the event is written right after the request's unit of work has ended;
    elsewhere (worker, CLI) at once.
    """
    event = build_event(
        action=action,
        actor=actor,
        target=target,
        before=before,
        after=after,
        outcome=outcome,
        reason=reason,
    )
    pending = _deferred.get()
    if pending is not None:
        pending.append(event)
        return
    await write_events(database, [event])


async def write_events(database: Database, events: list[AuditEvent]) -> None:
    """Write ``events`` in a unit of work of their own."""
    if not events:
        return
    try:
        async with database.unit_of_work() as session:
            session.add_all(events)
    except Exception:
        # The refusal itself still happens; losing its audit event must be loud, not fatal.
        logger.exception("could not record audit events", extra={"count": len(events)})


class AuditFlushMiddleware:
    """Writes the events a request recorded separately once the request is over."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[AuditEvent] = []
        token = _deferred.set(pending)
        try:
            await self.app(scope, receive, send)
        finally:
            _deferred.reset(token)
            await write_events(scope["app"].state.database, pending)
