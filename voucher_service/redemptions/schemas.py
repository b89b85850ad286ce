"""Shapes of the provider redemption API (DESIGN.md §6), and the holder's view."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from voucher_service.redemptions.models import Redemption, Refund

Text40 = Annotated[str, Field(min_length=1, max_length=40)]


class Usage(BaseModel):
    """What was sold: resource, quantity and unit, and the unit price in fen."""

    model_config = ConfigDict(extra="forbid")

    resource: Text40 = Field(examples=["gpu_hour"])
    quantity: Decimal = Field(gt=0, max_digits=20, decimal_places=6, examples=["12.5"])
    unit: Text40 = Field(examples=["hour"])
    unit_price: StrictInt = Field(description="fen per unit", examples=[2500])

    def stored(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": self.unit_price,
        }


class RedemptionCreate(BaseModel):
    """Redeem a voucher against a bill (amounts in fen)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "voucher_code": "SHC-7K3M-Q9PX-4",
                    "order_id": "INV-2026-000123",
                    "bill_amount": 1_000_000,
                    "currency": "CNY",
                    "usage": {
                        "resource": "gpu_hour",
                        "quantity": "400",
                        "unit": "hour",
                        "unit_price": 2500,
                    },
                    "capture": True,
                    "allow_partial": False,
                }
            ]
        },
    )

    voucher_code: str = Field(min_length=1, max_length=32)
    order_id: str = Field(min_length=1, max_length=200)
    bill_amount: StrictInt
    currency: str = Field(default="CNY", max_length=8)
    usage: Usage
    capture: StrictBool = True
    allow_partial: StrictBool = False


class CaptureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt | None = Field(
        default=None, description="fen to capture (≤ authorised); all of it when omitted"
    )


class RefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(description="fen to give back to the voucher")
    reason: str = Field(min_length=1, max_length=500)


class RefundPublic(BaseModel):
    id: uuid.UUID
    redemption_id: uuid.UUID
    amount: int
    currency: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundPublic:
        return cls(
            id=refund.id,
            redemption_id=refund.redemption_id,
            amount=refund.amount,
            currency=refund.currency,
            reason=refund.reason,
            created_at=refund.created_at,
        )


class RedemptionPublic(BaseModel):
    """A redemption as its provider sees it; ``receipt`` is a compact JWS (see the JWKS)."""

    id: uuid.UUID
    status: str = Field(examples=["captured"])
    voucher_code: str
    order_id: str
    bill_amount: int
    currency: str
    covered_amount: int
    captured_amount: int
    refunded_amount: int
    enterprise_payable: int = Field(description="what the enterprise pays itself (fen)")
    voucher_balance: int = Field(description="what is left on the voucher after this call (fen)")
    rate_bp: int
    usage: dict[str, Any]
    expires_at: datetime | None = Field(description="when an authorisation lapses if not captured")
    receipt: str = Field(description="compact JWS over the ledger transaction")
    created_at: datetime
    captured_at: datetime | None
    refunds: list[RefundPublic] = Field(default_factory=list)

    @classmethod
    def of(
        cls,
        redemption: Redemption,
        *,
        voucher_balance: int,
        receipt: str,
        refunds: list[Refund] | None = None,
    ) -> RedemptionPublic:
        return cls(
            id=redemption.id,
            status=redemption.status,
            voucher_code=redemption.voucher_code,
            order_id=redemption.order_id,
            bill_amount=redemption.bill_amount,
            currency=redemption.currency,
            covered_amount=redemption.covered_amount,
            captured_amount=redemption.captured_amount,
            refunded_amount=redemption.refunded_amount,
            enterprise_payable=redemption.enterprise_payable_amount,
            voucher_balance=voucher_balance,
            rate_bp=redemption.rate_bp,
            usage=redemption.usage,
            expires_at=redemption.expires_at if redemption.status == "authorized" else None,
            receipt=receipt,
            created_at=redemption.created_at,
            captured_at=redemption.captured_at,
            refunds=[RefundPublic.of(refund) for refund in refunds or []],
        )


class RedemptionSummary(BaseModel):
    """A redemption in a provider's list (no receipt: fetch the redemption for it)."""

    id: uuid.UUID
    status: str
    voucher_code: str
    order_id: str
    bill_amount: int
    currency: str
    covered_amount: int
    captured_amount: int
    refunded_amount: int
    enterprise_payable: int
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, redemption: Redemption) -> RedemptionSummary:
        return cls(
            id=redemption.id,
            status=redemption.status,
            voucher_code=redemption.voucher_code,
            order_id=redemption.order_id,
            bill_amount=redemption.bill_amount,
            currency=redemption.currency,
            covered_amount=redemption.covered_amount,
            captured_amount=redemption.captured_amount,
            refunded_amount=redemption.refunded_amount,
            enterprise_payable=redemption.enterprise_payable_amount,
            expires_at=redemption.expires_at if redemption.status == "authorized" else None,
            created_at=redemption.created_at,
        )


class RefundResult(BaseModel):
    """A refund and the redemption after it."""

    refund: RefundPublic
    redemption: RedemptionPublic


class ProviderVoucherPublic(BaseModel):
    """A voucher as a provider that may redeem it sees it."""

    code: str
    status: str
    kind: str
    balance: int = Field(description="available to redeem now (fen)")
    currency: str
    rate_bp: int
    valid_until: datetime


class HolderRedemptionPublic(BaseModel):
    """A redemption of the holder's voucher: who billed what, what the voucher covered."""

    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    order_id: str
    status: str
    bill_amount: int
    covered_amount: int
    captured_amount: int
    refunded_amount: int
    enterprise_payable: int = Field(description="the enterprise's own share (fen)")
    currency: str
    usage: dict[str, Any]
    created_at: datetime
    captured_at: datetime | None

    @classmethod
    def of(cls, redemption: Redemption, provider_name: str) -> HolderRedemptionPublic:
        return cls(
            id=redemption.id,
            provider_id=redemption.provider_id,
            provider_name=provider_name,
            order_id=redemption.order_id,
            status=redemption.status,
            bill_amount=redemption.bill_amount,
            covered_amount=redemption.covered_amount,
            captured_amount=redemption.captured_amount,
            refunded_amount=redemption.refunded_amount,
            enterprise_payable=redemption.enterprise_payable_amount,
            currency=redemption.currency,
            usage=redemption.usage,
            created_at=redemption.created_at,
            captured_at=redemption.captured_at,
        )
