"""Tables of the applications domain.

- ``application``: one enterprise's request for a voucher under one programme, for one contract
  with one provider (unique per programme, provider and contract number). Carries the computed
  eligible amount with its working, the review position (state, stage, round, publicity end)
  and, once approved, the awarded amount and the voucher.
- ``application_decision``: every reviewer's decision, kept across resubmissions (``round``).
- ``attachment``: an uploaded file's metadata; the content lives on disk by SHA-256.
- ``objection``: what the public said about an award during its publicity.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class Application(IdModel, table=True):
    """An application for a voucher, from draft to decision."""

    __tablename__ = "application"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "provider_id", "contract_number", name="contract"),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'in_review', 'publicity', 'approved', 'rejected', "
            "'returned', 'withdrawn')",
            name="state",
        ),
        sa.CheckConstraint("contract_amount > 0", name="contract_amount_positive"),
        sa.CheckConstraint("contract_ends_on > contract_starts_on", name="contract_dates"),
    )

    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    enterprise_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id")
    created_by: uuid.UUID = Field(foreign_key="user_account.id")
    contract_number: str = Field(max_length=100)
    contract_amount: int = Field(sa_type=sa.BigInteger)
    contract_signed_on: date
    contract_starts_on: date
    contract_ends_on: date
    contract_domestic_chips: bool = Field(default=False)
    project_name: str = Field(max_length=200)
    project_summary: str = Field(default="", max_length=4000)
    related_party_declared: bool = Field(default=False)
    related_party_note: str | None = Field(default=None, max_length=1000)
    state: str = Field(default="draft", max_length=20, index=True)
    stage_index: int = Field(default=0)
    round: int = Field(default=0)  # how many times it has been submitted
    eligible_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    eligibility: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    awarded_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    voucher_id: uuid.UUID | None = Field(default=None)
    publicity_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApplicationDecision(IdModel, table=True):
    """One reviewer's decision at one stage of one round."""

    __tablename__ = "application_decision"
    __table_args__ = (
        sa.CheckConstraint("decision IN ('approve', 'reject', 'return')", name="decision"),
    )

    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    round: int
    stage_index: int
    stage_name: str = Field(max_length=100)
    decision: str = Field(max_length=10)
    actor_id: uuid.UUID = Field(foreign_key="user_account.id")
    actor_label: str = Field(max_length=254)
    comment: str = Field(default="", max_length=4000)
    awarded_amount: int | None = Field(default=None, sa_type=sa.BigInteger)


class Attachment(IdModel, table=True):
    """An uploaded file of an application (or a claim); the bytes are stored by digest."""

    __tablename__ = "attachment"
    __table_args__ = (
        sa.CheckConstraint(
            "kind IN ('contract', 'business_licence', 'invoice', 'payment', 'delivery', 'other')",
            name="kind",
        ),
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    application_id: uuid.UUID | None = Field(default=None, foreign_key="application.id", index=True)
    claim_id: uuid.UUID | None = Field(default=None, foreign_key="claim.id", index=True)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=200)
    content_type: str = Field(max_length=50)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    uploaded_by: uuid.UUID = Field(foreign_key="user_account.id")


class Objection(IdModel, table=True):
    """An objection raised by anyone during an award's publicity; read by reviewers."""

    __tablename__ = "objection"

    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    text: str = Field(max_length=4000)
    contact: str | None = Field(default=None, max_length=200)
    address_digest: str | None = Field(default=None, max_length=64)
