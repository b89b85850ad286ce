"""Request and response shapes of the users domain, one per audience."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.kit.fields import Email
from voucher_service.users.models import Role

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserSelf(BaseModel):
    """A user as they see themselves."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_id: uuid.UUID
    email: str
    name: str
    role: Role
    status: str
    created_at: datetime
    last_login_at: datetime | None


class Member(BaseModel):
    """A member as the enterprise's owner sees them."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role
    status: str
    created_at: datetime
    last_login_at: datetime | None


class UserAdmin(UserSelf):
    """A user as a system administrator or auditor sees them."""

    failed_login_count: int
    locked_until: datetime | None
    password_changed_at: datetime | None
    updated_at: datetime | None


class MemberInvite(BaseModel):
    """An owner invites a member (the role is always ``member``)."""

    model_config = _STRICT

    email: Email
    name: str = Field(min_length=1, max_length=100)


class UserCreate(BaseModel):
    """A system administrator creates a user in any organisation."""

    model_config = _STRICT

    organisation_id: uuid.UUID
    email: Email
    name: str = Field(min_length=1, max_length=100)
    role: Role


class SetupToken(BaseModel):
    """A one-time token (shown once) with which the user sets a password."""

    password_setup_token: str = Field(description="shown once; give it to the person securely")
    expires_at: datetime


class MemberInvited(Member, SetupToken):
    pass


class UserCreated(UserAdmin, SetupToken):
    pass


class Reason(BaseModel):
    model_config = _STRICT

    reason: str = Field(min_length=2, max_length=500)
