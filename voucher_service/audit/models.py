"""Audit tables.

Writers insert ``audit_event`` rows carrying their own ``content_hash`` and nothing else: no
writer reads or locks a chain head, so auditing never serialises the service. The ``audit.chain``
worker job later gives each unlinked event the next ``chain_seq`` (in id order) and
``chain_hash = sha256(seq:previous chain_hash:content_hash)``; ``audit_chain`` holds the head and
the anchor left by retention pruning. Database triggers (see the identity migration) refuse any
UPDATE except that linking and any DELETE except pruning below the anchor.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from voucher_service.kit.models import IdModel, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(IdModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_target", "target_type", "target_id"),
        sa.Index("ix_audit_event_created_at", "created_at"),
    )

    action: str = Field(max_length=100, index=True)
    outcome: str = Field(max_length=10)
    actor_type: str = Field(max_length=20)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    actor_label: str | None = Field(default=None, max_length=254)
    organisation_id: uuid.UUID | None = Field(default=None, index=True)
    role: str | None = Field(default=None, max_length=20)
    target_type: str | None = Field(default=None, max_length=50)
    target_id: str | None = Field(default=None, max_length=100)
    reason: str | None = Field(default=None, max_length=200)
    before_json: str | None = Field(default=None, sa_type=sa.Text)
    after_json: str | None = Field(default=None, sa_type=sa.Text)
    request_id: str | None = Field(default=None, max_length=128, index=True)
    address: str | None = Field(default=None, max_length=64)
    content_hash: str = Field(max_length=64)
    chain_seq: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    chain_hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The single row (id 1) holding the chain head and the retention anchor."""

    __tablename__ = "audit_chain"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0, sa_type=sa.BigInteger)
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)
    pruned_seq: int = Field(default=0, sa_type=sa.BigInteger)
    pruned_hash: str = Field(default=GENESIS_HASH, max_length=64)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
