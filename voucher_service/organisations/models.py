"""The ``organisation`` table: every user and API client belongs to exactly one."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class OrganisationKind(StrEnum):
    enterprise = "enterprise"
    provider = "provider"
    authority = "authority"


class OrganisationStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class EnterpriseSize(StrEnum):
    """Size classes of the national SME classification (中小企业划型标准)."""

    micro = "micro"
    small = "small"
    medium = "medium"
    large = "large"


class Organisation(IdModel, table=True):
    """An enterprise, a provider or the authority; ``status`` gates every member's access."""

    __tablename__ = "organisation"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('enterprise', 'provider', 'authority')", name="kind"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="status"),
        sa.CheckConstraint(
            "kind = 'authority' OR credit_code IS NOT NULL", name="credit_code_required"
        ),
    )

    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=200)
    credit_code: str | None = Field(default=None, max_length=18, unique=True)
    # The administrative region (行政区划代码) is characters 3-8 of the credit code.
    region_code: str | None = Field(default=None, max_length=6, index=True)
    # True when an administrator accepted a legacy code whose check character is wrong.
    credit_code_legacy: bool = Field(default=False)
    status: str = Field(default=OrganisationStatus.active, max_length=20)
    status_reason: str | None = Field(default=None, max_length=500)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Enterprise attributes used by subsidy rules; "startup" is computed from founded_on.
    founded_on: date | None = Field(default=None)
    size: str | None = Field(default=None, max_length=20)
    industry: str | None = Field(default=None, max_length=100)
    contact_email: str | None = Field(default=None, max_length=254)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
