"""Users and the one-time tokens that set their passwords (invitations and resets)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime
from voucher_service.organisations.models import OrganisationKind


class Role(StrEnum):
    """What a user may do; each role belongs to one organisation kind."""

    owner = "owner"
    member = "member"
    operator = "operator"
    program_admin = "program_admin"
    reviewer = "reviewer"
    finance = "finance"
    auditor = "auditor"
    sysadmin = "sysadmin"


ROLES_BY_KIND: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.enterprise: frozenset({Role.owner, Role.member}),
    OrganisationKind.provider: frozenset({Role.operator}),
    OrganisationKind.authority: frozenset(
        {Role.program_admin, Role.reviewer, Role.finance, Role.auditor, Role.sysadmin}
    ),
}


class UserStatus(StrEnum):
    invited = "invited"  # has no password yet; sets one with its invitation token
    active = "active"
    suspended = "suspended"


class User(IdModel, table=True):
    """A person who logs in; belongs to one organisation with one role."""

    __tablename__ = "user_account"  # "user" is a reserved word in PostgreSQL
    __table_args__ = (
        sa.CheckConstraint("status IN ('invited', 'active', 'suspended')", name="status"),
    )

    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)
    status: str = Field(default=UserStatus.active, max_length=20)
    password_hash: str | None = Field(default=None, max_length=200)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Incremented whenever every existing token of the user must stop working (password
    # change or reset, suspension); access tokens carry the epoch they were issued in.
    auth_epoch: int = Field(default=0)
    failed_login_count: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PasswordTokenPurpose(StrEnum):
    invitation = "invitation"
    reset = "reset"


class PasswordToken(IdModel, table=True):
    """A one-time token that lets a user set a password; only its SHA-256 is stored."""

    __tablename__ = "password_token"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    purpose: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: uuid.UUID | None = Field(default=None)
