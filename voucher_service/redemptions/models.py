"""Tables: ``redemption`` (a provider billing a voucher) and ``refund`` (money given back).

The money is in the ledger: a redemption's hold (``voucher:V`` → ``provider:X:payable``, pending)
or posted transfer, its capture, void or expiry, and each refund's reverse transfer. These rows
hold what the provider sent (order, bill, usage) and the figures the API answers with; every
figure is also recoverable from the ledger transactions they name.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class RedemptionStatus(StrEnum):
    authorized = "authorized"  # a hold on the voucher, until captured, voided or expired
    captured = "captured"
    voided = "voided"
    expired = "expired"


class Redemption(IdModel, table=True):
    """One bill of a provider against a voucher; ``order_id`` is unique per provider."""

    __tablename__ = "redemption"
    __table_args__ = (
        sa.UniqueConstraint("provider_id", "order_id"),
        sa.CheckConstraint(
            "status IN ('authorized', 'captured', 'voided', 'expired')", name="status"
        ),
        sa.CheckConstraint("bill_amount > 0", name="bill_amount"),
        sa.CheckConstraint("covered_amount > 0 AND covered_amount <= bill_amount", name="covered"),
        sa.CheckConstraint(
            "captured_amount >= 0 AND captured_amount <= covered_amount", name="captured"
        ),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= captured_amount", name="refunded"
        ),
        sa.CheckConstraint("enterprise_payable_amount >= 0", name="enterprise_payable"),
    )

    provider_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", index=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    enterprise_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    order_id: str = Field(max_length=200)
    voucher_code: str = Field(max_length=16)
    bill_amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(default="CNY", max_length=3)
    usage: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    rate_bp: int
    covered_amount: int = Field(sa_type=sa.BigInteger)
    captured_amount: int = Field(default=0, sa_type=sa.BigInteger)
    refunded_amount: int = Field(default=0, sa_type=sa.BigInteger)
    enterprise_payable_amount: int = Field(sa_type=sa.BigInteger)
    status: str = Field(max_length=20, index=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The ledger transactions: the hold (or the posted transfer when captured at once), and the
    # capture, void or expiry that resolved the hold (indexed: a settlement item names it).
    authorization_transaction_id: uuid.UUID = Field(unique=True)
    resolution_transaction_id: uuid.UUID | None = Field(default=None, index=True)
    captured_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def receipt_transaction_id(self) -> uuid.UUID:
        """The transaction a receipt covers: the posting of the money (or the hold, while open)."""
        return self.resolution_transaction_id or self.authorization_transaction_id

    @property
    def refundable_amount(self) -> int:
        return self.captured_amount - self.refunded_amount


class Refund(IdModel, table=True):
    """Part of a captured redemption given back to the voucher (before its settlement is paid)."""

    __tablename__ = "refund"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount"),)

    redemption_id: uuid.UUID = Field(foreign_key="redemption.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(default="CNY", max_length=3)
    reason: str = Field(max_length=500)
    ledger_transaction_id: uuid.UUID = Field(unique=True)
