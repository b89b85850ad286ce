"""Tables of the webhook engine.

- ``webhook_endpoint``: one per provider: URL, subscribed types, the signing secret(s) encrypted
  at rest, and whether it is disabled (it answered 410 Gone).
- ``webhook_event``: the outbox. ``emit`` inserts one row in the caller's transaction; the same
  row then carries the delivery state (one endpoint per provider, so event and delivery are one
  thing, and emitting costs exactly one insert). ``status``: ``pending`` (waiting for its next
  attempt; "retrying" once it has failed), ``delivered``, ``dead`` (dead-lettered, replayable) or
  ``skipped`` (the provider had no endpoint or did not subscribe to the type).
- ``webhook_attempt``: every HTTP attempt, for the delivery log.
- ``webhook_notice``: something the provider's operators must see in the portal (their endpoint
  was disabled).

``provider_id`` is the provider organisation's id: a foreign key to ``organisation.id``, named by
table only, since this package may not import the application (``webhook_attempt`` reaches the
provider through its event).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.sqltypes import NAMING_CONVENTION, UTCDateTime, new_id, utcnow

# Constraint names must follow the convention whichever package defines its tables first.
SQLModel.metadata.naming_convention = NAMING_CONVENTION

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
SKIPPED = "skipped"

# Attempt outcomes.
OK = "delivered"
FAILED = "failed"
GONE = "gone"
LOST = "lost"


class WebhookEndpoint(SQLModel, table=True):
    """Where a provider wants its events, and the secret(s) that sign them."""

    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id", unique=True, index=True)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_type=sa.JSON, nullable=False)
    # Fernet tokens (see providers.webhooks.secrets); never the secret itself.
    secret_ciphertext: str = Field(max_length=500)
    previous_secret_ciphertext: str | None = Field(default=None, max_length=500)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str | None = Field(default=None, max_length=500)


class WebhookEvent(SQLModel, table=True):
    """One outbox event for one provider, and the state of its delivery."""

    __tablename__ = "webhook_event"
    __table_args__: ClassVar[Any] = (
        # The worker's claim: due pending events, oldest first.
        sa.Index("ix_webhook_event_due", "status", "next_attempt_at"),
        # A provider's events, newest first (keyset pages), and its dead letters.
        sa.Index("ix_webhook_event_provider", "provider_id", "status", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Indexed by ix_webhook_event_provider, whose first column it is.
    provider_id: uuid.UUID = Field(foreign_key="organisation.id")
    event_type: str = Field(max_length=64)
    # The exact body that is signed and sent, so every attempt sends the same bytes.
    payload: str = Field(sa_type=sa.Text, nullable=False)
    status: str = Field(default=PENDING, max_length=16)
    attempt_count: int = Field(default=0, nullable=False)
    # Attempts since the event was emitted or last replayed: the position in the retry schedule.
    round_attempt_count: int = Field(default=0, nullable=False)
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set while a worker holds the event (its lease runs until next_attempt_at); still set when a
    # worker claims it again means the previous attempt was lost with its worker.
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=200)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_lettered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt (or one lost with its worker): the provider's delivery log."""

    __tablename__ = "webhook_attempt"
    __table_args__: ClassVar[Any] = (
        sa.Index("ix_webhook_attempt_provider", "provider_id", "id"),
        sa.Index("ix_webhook_attempt_event", "event_id", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # When the attempt started.
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    event_id: uuid.UUID = Field(foreign_key="webhook_event.id", ondelete="CASCADE")
    provider_id: uuid.UUID
    attempt_number: int
    outcome: str = Field(max_length=16)
    url: str = Field(max_length=2000)
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker_id: str | None = Field(default=None, max_length=200)


class WebhookNotice(SQLModel, table=True):
    """A message for the provider's operators (the portal shows the unresolved ones)."""

    __tablename__ = "webhook_notice"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    kind: str = Field(max_length=50)
    message: str = Field(max_length=1000)
    message_zh: str = Field(max_length=1000)
    url: str = Field(max_length=2000)
    event_id: uuid.UUID | None = None
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
