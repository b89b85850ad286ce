"""Request and response shapes of settlements (amounts in fen)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.exports import Column, money
from voucher_service.settlements.models import SettlementResolution


class SettlementGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: uuid.UUID
    period_start_on: date
    period_end_on: date = Field(description="inclusive (Asia/Shanghai)")
    payee_id: uuid.UUID | None = Field(default=None, description="one payee; omitted: all")


class SettlementPay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank_reference: str = Field(min_length=1, max_length=100)


class SettlementDispute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class SettlementCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=1000, description="why: kept with it")


class SettlementResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: SettlementResolution = Field(
        description="uphold: approved again and payable at once; "
        "cancel: cancelled, its items taken by the next generation for the period"
    )
    comment: str = Field(min_length=1, max_length=1000, description="why: kept with it")


class SettlementPublic(BaseModel):
    """A settlement as its payee sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    program_id: uuid.UUID
    payee_kind: str
    payee_id: uuid.UUID
    period_start_on: date
    period_end_on: date
    status: str
    item_count: int
    gross_amount: int
    refunded_amount: int
    clawback_amount: int
    net_amount: int
    currency: str
    approved_at: datetime | None
    respond_by: datetime | None
    confirmed_at: datetime | None
    disputed_at: datetime | None
    dispute_reason: str | None
    resolved_at: datetime | None
    resolution_comment: str | None
    paid_at: datetime | None
    bank_reference: str | None


class SettlementAdmin(SettlementPublic):
    """A settlement as the authority sees it: who generated, approved and paid it."""

    created_by_id: uuid.UUID | None
    first_approved_by_id: uuid.UUID | None
    approved_by_id: uuid.UUID | None
    resolved_by_id: uuid.UUID | None
    paid_by_id: uuid.UUID | None
    ledger_transaction_id: uuid.UUID | None


class SettlementItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source_kind: str
    source_id: uuid.UUID = Field(description="the ledger transaction")
    kind: str
    amount: int
    redemption_id: uuid.UUID | None = Field(
        default=None, description="the redemption captured or refunded (provider items)"
    )
    order_id: str | None = Field(default=None, description="that redemption's order id")
    claim_id: uuid.UUID | None = Field(
        default=None, description="the claim paid (enterprise items)"
    )


ITEM_COLUMNS = [
    Column("source_id", "账务交易编号", "Ledger transaction"),
    Column("kind", "类型", "Kind"),
    money("amount", "金额（元）", "Amount (CNY)"),
    Column("order_id", "订单号", "Order id"),
    Column("redemption_id", "核销编号", "Redemption id"),
    Column("claim_id", "申领编号", "Claim id"),
]
