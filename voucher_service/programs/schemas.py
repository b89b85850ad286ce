"""Request and response shapes of programmes (authority and public views)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from voucher_service.programs.eligibility import TierRule
from voucher_service.programs.models import (
    OversubscriptionPolicy,
    ProgramKind,
    ProgramMode,
    ProgramStatus,
    RoundingUnit,
    StageKind,
)

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
BasisPoints = Annotated[int, Field(ge=0, le=10_000, strict=True)]
Fen = Annotated[int, Field(gt=0, le=10**14, strict=True, description="fen (分)")]
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.]*$")]


_NOT_NULL = frozenset(
    {
        "name",
        "description",
        "mode",
        "fiscal_year",
        "rate_tiers",
        "default_rate_bp",
        "rounding_unit",
        "opens_on",
        "closes_on",
        "allow_holder_providers",
        "review_stages",
        "oversubscription_policy",
        "hold_timeout_seconds",
    }
)


class RateTierIn(BaseModel):
    """One tier: the first whose rule matches gives the rate."""

    model_config = _STRICT

    rule: TierRule
    rate_bp: BasisPoints
    startup_years: int = Field(default=3, ge=1, le=20)
    max_contract_amount: Fen | None = None
    industries: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=50)

    @model_validator(mode="after")
    def _needs(self) -> RateTierIn:
        if self.rule == TierRule.SMALL_CONTRACT and self.max_contract_amount is None:
            raise ValueError("a small_contract tier needs max_contract_amount")
        if self.rule == TierRule.INDUSTRY and not self.industries:
            raise ValueError("an industry tier needs industries")
        return self


class ReviewStageIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$", examples=["expert"])
    kind: StageKind
    days: int = Field(default=0, ge=0, le=90)


class ProgramRules(BaseModel):
    """Every rule of a programme; all optional so a PATCH can change some of them."""

    model_config = _STRICT

    name: str | None = Field(default=None, min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    mode: ProgramMode | None = None
    fiscal_year: int | None = Field(default=None, ge=2000, le=2100)
    rate_tiers: list[RateTierIn] | None = Field(default=None, max_length=20)
    default_rate_bp: BasisPoints | None = None
    enterprise_annual_cap_amount: Fen | None = None
    contract_cap_amount: Fen | None = None
    claim_share_bp: BasisPoints | None = None
    rounding_unit: RoundingUnit | None = None
    opens_on: date | None = None
    closes_on: date | None = None
    eligible_from_on: date | None = None
    eligible_until_on: date | None = None
    validity_days: int | None = Field(default=None, ge=1, le=3660)
    valid_until_on: date | None = None
    allow_holder_providers: bool | None = None
    review_stages: list[ReviewStageIn] | None = Field(default=None, max_length=10)
    oversubscription_policy: OversubscriptionPolicy | None = None
    two_approver_threshold_amount: Fen | None = None
    hold_timeout_seconds: int | None = Field(default=None, ge=30, le=7 * 86_400)

    @model_validator(mode="after")
    def _no_null_for_required(self) -> ProgramRules:
        nulled = sorted(
            name for name in _NOT_NULL & self.model_fields_set if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"cannot be null: {', '.join(nulled)}")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as column values (lists as plain JSON)."""
        values = self.model_dump(exclude_unset=True)
        for name in ("rate_tiers", "review_stages"):
            if name in values:
                values[name] = [item.model_dump(mode="json") for item in getattr(self, name)]
        return values


_REQUIRED = ("name", "mode", "fiscal_year", "default_rate_bp", "opens_on", "closes_on")


class ProgramCreate(ProgramRules):
    """A new draft programme; ``kind`` is fixed once created."""

    kind: ProgramKind

    @model_validator(mode="after")
    def _required(self) -> ProgramCreate:
        missing = [name for name in _REQUIRED if getattr(self, name) is None]
        if missing:
            raise ValueError(f"required: {', '.join(missing)}")
        return self


class Funding(BaseModel):
    model_config = _STRICT

    amount: Fen = Field(examples=[600_000_000_00])
    client_reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="idempotency key, when the Idempotency-Key header is not sent",
    )
    note: str | None = Field(default=None, max_length=500, examples=["2026 budget, first tranche"])


class FundingOut(BaseModel):
    transaction_id: uuid.UUID
    amount: int
    replayed: bool
    available_amount: int


class ProviderListing(BaseModel):
    model_config = _STRICT

    provider_id: uuid.UUID


class PriceCeilingIn(BaseModel):
    model_config = _STRICT

    resource: Slug = Field(examples=["gpu_hour"])
    unit: Slug = Field(examples=["hour"])
    max_unit_price_amount: Fen = Field(examples=[25_00])


class PriceCeilingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    resource: str
    unit: str
    max_unit_price_amount: int


class FiguresOut(BaseModel):
    """Money in fen, from the ledger: available = budget − committed + returned and
    committed = returned + spent + outstanding."""

    budget: int
    committed: int
    spent: int
    paid_out: int
    returned: int
    available: int
    outstanding: int
    on_hold: int


class ProgramPublic(BaseModel):
    """A published programme's rules, as anyone may read them."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    kind: ProgramKind
    mode: ProgramMode
    fiscal_year: int
    status: ProgramStatus
    rate_tiers: list[dict[str, Any]]
    default_rate_bp: int
    enterprise_annual_cap_amount: int | None
    contract_cap_amount: int | None
    claim_share_bp: int | None
    rounding_unit: RoundingUnit
    opens_on: date
    closes_on: date
    eligible_from_on: date | None
    eligible_until_on: date | None
    validity_days: int | None
    valid_until_on: date | None
    allow_holder_providers: bool
    review_stages: list[dict[str, Any]]
    oversubscription_policy: OversubscriptionPolicy
    provider_ids: list[uuid.UUID] = []
    price_ceilings: list[PriceCeilingOut] = []
    figures: FiguresOut | None = None


class ProgramAdmin(ProgramPublic):
    """A programme as the authority sees it."""

    two_approver_threshold_amount: int | None
    hold_timeout_seconds: int
    created_by_id: uuid.UUID | None
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    archived_at: datetime | None
    updated_at: datetime | None
