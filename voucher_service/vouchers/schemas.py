"""Request and response shapes of vouchers (holder and authority views)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.vouchers.codes import display

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BindingOut(BaseModel):
    """A provider that may redeem the voucher (or could, until ``revoked_at``)."""

    provider_id: uuid.UUID
    provider_name: str
    source: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


class VoucherOut(BaseModel):
    """A voucher as its holder sees it."""

    id: uuid.UUID
    code: str = Field(description="canonical form, no separators")
    code_display: str = Field(examples=["K7M2-9XPA-Q3HT-V"])
    holder_id: uuid.UUID
    program_id: uuid.UUID
    kind: str
    mode: str
    rate_bp: int
    issued_amount: int
    currency: str
    valid_from: datetime
    valid_until: datetime
    state: str
    state_reason: str | None
    application_id: uuid.UUID | None
    created_at: datetime
    available_amount: int | None = None
    on_hold_amount: int | None = None
    providers: list[BindingOut] | None = None

    @classmethod
    def of(cls, voucher: Any, **extra: Any) -> Self:
        """The voucher's columns plus ``extra`` (balance, bindings)."""
        fields = {
            name: getattr(voucher, name)
            for name in cls.model_fields
            if hasattr(voucher, name) and name not in extra
        }
        return cls(**fields, code_display=display(voucher.code), **extra)


class VoucherAdminOut(VoucherOut):
    state_changed_at: datetime | None


class ProviderAuthorisation(BaseModel):
    model_config = _STRICT

    provider_id: uuid.UUID


class StateChange(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=2, max_length=500)


class MovementOut(BaseModel):
    """One ledger movement on the voucher's account: ``in`` (credited) or ``out`` (debited);
    ``phase`` is ``posted``, ``pending`` (a hold) or ``release`` (a hold let go)."""

    transaction_id: uuid.UUID
    position: int
    created_at: datetime
    kind: str
    direction: str
    phase: str
    amount: int
    reference: str | None
    related_id: uuid.UUID | None
    details: dict[str, Any] | None


class MovementPage(BaseModel):
    items: list[MovementOut]
    next_cursor: str | None = None
