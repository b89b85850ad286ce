"""Request and response shapes of claims."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.applications.schemas import AttachmentPublic
from voucher_service.claims.models import ClaimState


class ClaimPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    program_id: uuid.UUID
    voucher_id: uuid.UUID
    enterprise_id: uuid.UUID
    invoice_number: str
    paid_amount: int
    period_from_on: date
    period_until_on: date
    state: ClaimState
    eligible_amount: int
    eligibility: dict[str, Any]
    approved_amount: int | None
    reason: str | None
    decided_at: datetime | None
    created_at: datetime
    attachments: list[AttachmentPublic] = []


class ClaimDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    amount: int | None = Field(
        default=None, gt=0, description="fen; lower than the covered amount needs a reason"
    )
    reason: str | None = Field(default=None, max_length=1000)
