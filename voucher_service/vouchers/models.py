"""Tables: ``voucher`` and ``voucher_provider`` (who may redeem it).

A voucher's value lives in the ledger account ``voucher:<id>`` (see ``service.balance_of``);
the row holds what the value may be used for: holder, programme, kind, mode, rate, validity and
state. ``issued_amount`` is what issuance moved into the account (the ledger is the authority).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class VoucherState(StrEnum):
    active = "active"
    frozen = "frozen"  # by the authority; unfrozen by the authority
    exhausted = "exhausted"  # nothing left (a refund can make it active again)
    expired = "expired"  # past valid_until; the remainder went back to the programme
    revoked = "revoked"  # by the authority; the remainder went back to the programme


#: States a voucher never leaves.
FINAL_STATES = frozenset({VoucherState.expired, VoucherState.revoked})


class BindingSource(StrEnum):
    contract = "contract"  # the provider of the contract the voucher was awarded for
    holder = "holder"  # authorised by the holder (when the programme allows it)


class Voucher(IdModel, table=True):
    """A voucher: a human-typable code for value in the ledger, with its rules of use."""

    __tablename__ = "voucher"
    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('active', 'frozen', 'exhausted', 'expired', 'revoked')", name="state"
        ),
        sa.CheckConstraint("kind IN ('compute', 'model')", name="kind"),
        sa.CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_bp"),
        sa.CheckConstraint("issued_amount > 0", name="issued_amount"),
        sa.CheckConstraint("valid_until > valid_from", name="validity"),
    )

    code: str = Field(max_length=16, unique=True)
    holder_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    kind: str = Field(max_length=20)
    mode: str = Field(max_length=20)
    rate_bp: int
    issued_amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(default="CNY", max_length=3)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime, index=True)
    state: str = Field(default=VoucherState.active, max_length=20, index=True)
    state_reason: str | None = Field(default=None, max_length=500)
    state_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    application_id: uuid.UUID | None = Field(default=None, unique=True)


class VoucherProvider(IdModel, table=True):
    """A provider that may redeem the voucher, until ``revoked_at``."""

    __tablename__ = "voucher_provider"
    __table_args__ = (
        sa.UniqueConstraint("voucher_id", "provider_id"),
        sa.CheckConstraint("source IN ('contract', 'holder')", name="source"),
    )

    voucher_id: uuid.UUID = Field(foreign_key="voucher.id", index=True)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    source: str = Field(max_length=20)
    created_by_id: uuid.UUID | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=500)
