"""Tables: ``provider_profile`` (a provider's onboarding state) and ``catalogue_item``.

A provider is an ``organisation`` of kind ``provider``; its profile has the organisation's id as
primary key, so there is at most one. ``services`` lists the voucher kinds it sells (``compute``,
``model``); a model provider needs its generative-AI filing number (生成式人工智能服务备案号)
before it can be approved.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.sqltypes import NAMING_CONVENTION, UTCDateTime, new_id, utcnow

SQLModel.metadata.naming_convention = NAMING_CONVENTION


class ProviderState(StrEnum):
    proposed = "proposed"
    publicity = "publicity"  # listed publicly for objections (公示) before approval
    approved = "approved"
    suspended = "suspended"


class ServiceKind(StrEnum):
    """What a provider sells; the same words as a programme's and a voucher's ``kind``."""

    compute = "compute"
    model = "model"


class ProviderProfile(SQLModel, table=True):
    """A provider organisation's place on the whitelist."""

    __tablename__ = "provider_profile"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('proposed', 'publicity', 'approved', 'suspended')", name="state"
        ),
    )

    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    state: str = Field(default=ProviderState.proposed, max_length=20, index=True)
    services: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    filing_number: str | None = Field(default=None, max_length=100)
    publicity_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_reason: str | None = Field(default=None, max_length=500)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def sells(self, kind: str) -> bool:
        """Whether the provider sells vouchers' ``kind`` of service."""
        return kind in self.services


class CatalogueItem(SQLModel, table=True):
    """One thing a provider sells: a resource (``gpu_hour``, ``token_1k``, ...) in a unit."""

    __tablename__ = "catalogue_item"
    __table_args__ = (sa.UniqueConstraint("provider_id", "resource", "unit"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    provider_id: uuid.UUID = Field(foreign_key="provider_profile.organisation_id", index=True)
    resource: str = Field(max_length=40)
    unit: str = Field(max_length=40)
    description: str = Field(default="", max_length=500)
    # The provider's list price, for information; the programme's ceiling is in price_ceiling.
    list_price_amount: int | None = Field(default=None, sa_type=sa.BigInteger)
    active: bool = Field(default=True)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
