"""The ``claim`` table: one invoice claimed against one reimbursement-mode voucher.

The invoice number is unique per programme (the same invoice is never paid twice). The covered
amount is computed by the programme's rules when the claim is filed (``eligible_amount`` with its
working); a reviewer approves that or less (with a reason), never more, and approval moves the
approved amount from the voucher to the enterprise's payable account through the ledger.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class ClaimState(StrEnum):
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"


class Claim(IdModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "invoice_number", name="invoice"),
        sa.CheckConstraint("state IN ('submitted', 'approved', 'rejected')", name="state"),
        sa.CheckConstraint("paid_amount > 0", name="paid_amount_positive"),
        sa.CheckConstraint("period_until_on > period_from_on", name="period"),
        sa.CheckConstraint(
            "approved_amount IS NULL OR (approved_amount > 0 AND approved_amount <= "
            "eligible_amount)",
            name="approved_within_eligible",
        ),
    )

    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", index=True)
    enterprise_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    created_by: uuid.UUID = Field(foreign_key="user_account.id")
    invoice_number: str = Field(max_length=100)
    paid_amount: int = Field(sa_type=sa.BigInteger)
    period_from_on: date
    period_until_on: date
    state: str = Field(default=ClaimState.submitted, max_length=20, index=True)
    eligible_amount: int = Field(sa_type=sa.BigInteger)
    eligibility: dict[str, Any] = Field(sa_type=sa.JSON)
    approved_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    reason: str | None = Field(default=None, max_length=1000)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    transaction_id: uuid.UUID | None = Field(default=None, index=True)  # a settlement item
