"""Request and response shapes of the provider registry (authority and public views)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.registry.models import ProviderState, ServiceKind
from voucher_service.kit.fields import Email

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
#: ``gpu_hour``, ``cpu_core_hour``, ``token_1k``: lower-case words joined by underscores.
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.]*$")]
Services = Annotated[list[ServiceKind], Field(min_length=1, max_length=2)]


class ProviderRegistration(BaseModel):
    """Register a provider: a new provider organisation, or a profile for an existing one."""

    model_config = _STRICT

    organisation_id: uuid.UUID | None = Field(
        default=None, description="an existing provider organisation (then omit name and code)"
    )
    name: str | None = Field(default=None, min_length=2, max_length=200)
    credit_code: str | None = Field(default=None, max_length=40, examples=["91110000600037341L"])
    allow_legacy_credit_code: bool = False
    contact_email: Email | None = None
    services: Services = Field(examples=[["compute"]])
    filing_number: str | None = Field(
        default=None, max_length=100, description="生成式人工智能服务备案号 (model providers)"
    )

    @model_validator(mode="after")
    def _one_way(self) -> ProviderRegistration:
        new = self.name is not None or self.credit_code is not None
        if (self.organisation_id is None) == (not new):
            raise ValueError("give either organisation_id, or name and credit_code")
        if new and (self.name is None or self.credit_code is None):
            raise ValueError("a new provider needs name and credit_code")
        return self


class ProviderUpdate(BaseModel):
    model_config = _STRICT

    services: Services | None = None
    filing_number: str | None = Field(default=None, min_length=1, max_length=100)


class PublicityStart(BaseModel):
    model_config = _STRICT

    days: int = Field(ge=0, le=90, description="how long the provider is listed for objections")


class Reason(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=2, max_length=500)


class CatalogueItemCreate(BaseModel):
    model_config = _STRICT

    resource: Slug = Field(examples=["gpu_hour"])
    unit: Slug = Field(examples=["hour"])
    description: str = Field(default="", max_length=500, examples=["NVIDIA H800, 1 card-hour"])
    list_price_amount: int | None = Field(default=None, gt=0, le=10**12, strict=True)


class CatalogueItemUpdate(BaseModel):
    model_config = _STRICT

    description: str | None = Field(default=None, max_length=500)
    list_price_amount: int | None = Field(default=None, gt=0, le=10**12, strict=True)
    active: bool | None = None


class CatalogueItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    resource: str
    unit: str
    description: str
    list_price_amount: int | None
    active: bool


class ProviderPublic(BaseModel):
    """An approved provider as anyone may see it."""

    provider_id: uuid.UUID
    name: str
    credit_code: str | None
    services: list[str]
    filing_number: str | None
    catalogue: list[CatalogueItemOut] = []


class ProviderAdmin(ProviderPublic):
    """A provider's registry entry as the authority sees it."""

    state: ProviderState
    organisation_status: str
    publicity_until: datetime | None
    approved_at: datetime | None
    suspended_at: datetime | None
    suspended_reason: str | None
    created_at: datetime
    updated_at: datetime | None
