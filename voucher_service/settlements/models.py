"""Tables ``settlement`` and ``settlement_item``.

A settlement covers one payee (a provider in a point-of-sale programme, an enterprise in a
reimbursement programme), one programme and one period (Asia/Shanghai dates, inclusive). Its
items are the ledger transactions that moved money onto or off the payee's payable account
against the programme's vouchers (captures and approved claims +, refunds −) and, for refunds
after a payout, onto its receivable account (clawed back −). ``settlement_item``'s primary key is
the source (``source_kind``, ``source_id``): an item can belong to one settlement only, so two
generations racing can never include it twice. Cancelling a disputed settlement deletes its items,
so the next generation for the period takes them again; the settlement keeps its figures.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from voucher_service.kit.models import IdModel, UTCDateTime


class SettlementStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    paid = "paid"
    disputed = "disputed"
    cancelled = "cancelled"  # a dispute resolved by withdrawing it: its items are released


class SettlementResolution(StrEnum):
    """How finance resolves a disputed settlement."""

    uphold = "uphold"  # the figures stand: approved again, payable without a new response
    cancel = "cancel"  # withdrawn: cancelled, its items free for the next generation


class PayeeKind(StrEnum):
    provider = "provider"
    enterprise = "enterprise"


class Settlement(IdModel, table=True):
    __tablename__ = "settlement"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'paid', 'disputed', 'cancelled')", name="status"
        ),
        sa.CheckConstraint("payee_kind IN ('provider', 'enterprise')", name="payee_kind"),
        sa.CheckConstraint("period_end_on >= period_start_on", name="period"),
        sa.CheckConstraint(
            "status <> 'paid' OR bank_reference IS NOT NULL", name="paid_has_reference"
        ),
        sa.Index("ix_settlement_payee", "payee_id", "id"),
    )

    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    payee_kind: str = Field(max_length=20)
    payee_id: uuid.UUID = Field(foreign_key="organisation.id")
    period_start_on: date
    period_end_on: date
    status: str = Field(default=SettlementStatus.draft, max_length=20, index=True)
    item_count: int = Field(default=0, sa_type=sa.BigInteger)
    gross_amount: int = Field(default=0, sa_type=sa.BigInteger)
    refunded_amount: int = Field(default=0, sa_type=sa.BigInteger)
    clawback_amount: int = Field(default=0, sa_type=sa.BigInteger)
    net_amount: int = Field(default=0, sa_type=sa.BigInteger)
    currency: str = Field(default="CNY", max_length=3)
    created_by_id: uuid.UUID | None = Field(default=None)
    first_approved_by_id: uuid.UUID | None = Field(default=None)
    approved_by_id: uuid.UUID | None = Field(default=None)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    respond_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disputed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dispute_reason: str | None = Field(default=None, max_length=1000)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: uuid.UUID | None = Field(default=None)
    resolution_comment: str | None = Field(default=None, max_length=1000)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_by_id: uuid.UUID | None = Field(default=None)
    bank_reference: str | None = Field(default=None, max_length=100)
    ledger_transaction_id: uuid.UUID | None = Field(default=None)


class ItemKind(StrEnum):
    redemption = "redemption"  # captured at a provider (point of sale)
    claim = "claim"  # an approved reimbursement claim
    refund = "refund"  # given back to the voucher before payout
    clawback = "clawback"  # given back after payout: recovered from this settlement


class SettlementItem(SQLModel, table=True):
    __tablename__ = "settlement_item"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.Index("ix_settlement_item_settlement", "settlement_id", "source_id"),
    )

    source_kind: str = Field(max_length=30, primary_key=True)
    source_id: uuid.UUID = Field(primary_key=True)
    settlement_id: uuid.UUID = Field(foreign_key="settlement.id")
    kind: str = Field(max_length=20)
    amount: int = Field(sa_type=sa.BigInteger)  # fen, signed: what it adds to the payout
    reference: str | None = Field(default=None, max_length=200)
