"""Request and response shapes of the organisations domain, one per audience.

Request bodies forbid unknown fields: a client that sends ``status`` or ``kind`` where they do
not belong gets a 422, not a silently ignored (or worse, applied) field.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.kit.fields import Email
from voucher_service.organisations.models import EnterpriseSize, OrganisationKind

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EnterpriseDetails(BaseModel):
    """What an enterprise declares about itself when it registers."""

    model_config = _STRICT

    name: str = Field(min_length=2, max_length=200, examples=["北京某某智能科技有限公司"])
    credit_code: str = Field(min_length=1, max_length=40, examples=["91110000600037341L"])
    founded_on: date | None = Field(default=None, examples=["2023-05-01"])
    size: EnterpriseSize | None = None
    industry: str | None = Field(
        default=None, max_length=100, examples=["I65 软件和信息技术服务业"]
    )
    contact_email: Email | None = None


class OrganisationCreate(BaseModel):
    """An authority administrator registers any kind of organisation."""

    model_config = _STRICT

    kind: OrganisationKind
    name: str = Field(min_length=2, max_length=200)
    credit_code: str | None = Field(default=None, max_length=40)
    allow_legacy_credit_code: bool = Field(
        default=False, description="accept a legacy code whose check character is wrong"
    )
    founded_on: date | None = None
    size: EnterpriseSize | None = None
    industry: str | None = Field(default=None, max_length=100)
    contact_email: Email | None = None


class OrganisationUpdate(BaseModel):
    """What an organisation may change about itself (never status, kind or credit code)."""

    model_config = _STRICT

    name: str | None = Field(default=None, min_length=2, max_length=200)
    industry: str | None = Field(default=None, max_length=100)
    size: EnterpriseSize | None = None
    contact_email: Email | None = None


class StatusChange(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=2, max_length=500)


class OrganisationPublic(BaseModel):
    """An organisation as its own members see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: OrganisationKind
    name: str
    credit_code: str | None
    region_code: str | None
    status: str
    founded_on: date | None
    is_startup: bool = False
    size: EnterpriseSize | None
    industry: str | None
    contact_email: str | None
    created_at: datetime


class OrganisationAdmin(OrganisationPublic):
    """An organisation as the authority sees it."""

    credit_code_legacy: bool
    status_reason: str | None
    status_changed_at: datetime | None
    updated_at: datetime | None
