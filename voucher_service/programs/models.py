"""Tables: ``program`` (a voucher programme's published rules), ``program_provider`` (the
providers whose contracts it accepts) and ``price_ceiling`` (the most it reimburses per unit).

A programme's money is not here: its budget, what it committed, spent and got back are read from
the ledger (``program:<id>:available`` and its vouchers' accounts), see ``service.figures``.

``rate_tiers`` is an ordered JSON list mapping onto :class:`~.eligibility.RateTier`:
``[{"rule": "startup", "rate_bp": 6000, "startup_years": 3}, {"rule": "small_contract",
"rate_bp": 5000, "max_contract_amount": 50000000}]``; ``default_rate_bp`` applies when none matches.
``review_stages`` is an ordered list of ``{"name", "kind": "review" | "publicity", "days"}``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class ProgramKind(StrEnum):
    compute = "compute"
    model = "model"


class ProgramMode(StrEnum):
    point_of_sale = "point_of_sale"  # the provider redeems the voucher when it bills
    reimbursement = "reimbursement"  # the enterprise pays in full and claims the subsidy


class ProgramStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    archived = "archived"


class RoundingUnit(StrEnum):
    fen = "fen"
    yuan = "yuan"


class OversubscriptionPolicy(StrEnum):
    fifo_by_contract_date = "fifo_by_contract_date"
    pro_rata = "pro_rata"


class StageKind(StrEnum):
    review = "review"
    publicity = "publicity"


class Program(IdModel, table=True):
    """A voucher programme: its published rules, windows and state."""

    __tablename__ = "program"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('compute', 'model')", name="kind"),
        sa.CheckConstraint("mode IN ('point_of_sale', 'reimbursement')", name="mode"),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'archived')", name="status"),
        sa.CheckConstraint("rounding_unit IN ('fen', 'yuan')", name="rounding_unit"),
        sa.CheckConstraint(
            "oversubscription_policy IN ('fifo_by_contract_date', 'pro_rata')",
            name="oversubscription_policy",
        ),
        sa.CheckConstraint("default_rate_bp BETWEEN 0 AND 10000", name="default_rate_bp"),
        sa.CheckConstraint(
            "claim_share_bp IS NULL OR claim_share_bp BETWEEN 0 AND 10000", name="claim_share_bp"
        ),
        sa.CheckConstraint("closes_on >= opens_on", name="window"),
        sa.CheckConstraint(
            "validity_days IS NOT NULL OR valid_until_on IS NOT NULL", name="validity"
        ),
        sa.CheckConstraint("hold_timeout_seconds > 0", name="hold_timeout_seconds"),
    )

    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    kind: str = Field(max_length=20, index=True)
    mode: str = Field(max_length=20)
    fiscal_year: int = Field(index=True)
    status: str = Field(default=ProgramStatus.draft, max_length=20, index=True)
    rate_tiers: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    default_rate_bp: int
    enterprise_annual_cap_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    contract_cap_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    claim_share_bp: int | None = Field(default=None)
    rounding_unit: str = Field(default=RoundingUnit.fen, max_length=10)
    # Applications are accepted from opens_on to closes_on (inclusive, Asia/Shanghai dates).
    opens_on: date
    closes_on: date
    # The period of a contract the programme pays for (proration); open ends mean "any".
    eligible_from_on: date | None = Field(default=None)
    eligible_until_on: date | None = Field(default=None)
    # A voucher is valid for validity_days from issue, or until the end of valid_until_on
    # (Asia/Shanghai), whichever comes first when both are set.
    validity_days: int | None = Field(default=None)
    valid_until_on: date | None = Field(default=None)
    allow_holder_providers: bool = Field(default=False)
    review_stages: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=sa.JSON, nullable=False
    )
    oversubscription_policy: str = Field(
        default=OversubscriptionPolicy.fifo_by_contract_date, max_length=30
    )
    two_approver_threshold_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    hold_timeout_seconds: int = Field(default=900)
    created_by_id: uuid.UUID | None = Field(default=None)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProgramProvider(IdModel, table=True):
    """A provider whose contracts (and redemptions) the programme accepts."""

    __tablename__ = "program_provider"
    __table_args__ = (sa.UniqueConstraint("program_id", "provider_id"),)

    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)


class PriceCeiling(IdModel, table=True):
    """The most the programme counts per unit of a resource (a unit price over it is refused)."""

    __tablename__ = "price_ceiling"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "resource", "unit"),
        sa.CheckConstraint("max_unit_price_amount > 0", name="max_unit_price_amount"),
    )

    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    resource: str = Field(max_length=40)
    unit: str = Field(max_length=40)
    max_unit_price_amount: int = Field(sa_type=sa.BigInteger)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
