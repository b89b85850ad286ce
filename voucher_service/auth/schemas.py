"""Request and response shapes of authentication."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from voucher_service.kit.fields import Email
from voucher_service.organisations.schemas import EnterpriseDetails, OrganisationPublic
from voucher_service.users.schemas import UserSelf

_STRICT = ConfigDict(extra="forbid")


class TokenResponse(BaseModel):
    """RFC 6749 token response for a user, with a rotating refresh token."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - RFC 6749 token type
    expires_in: int = Field(description="seconds")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds")


class ClientTokenResponse(BaseModel):
    """RFC 6749 token response for a provider API client (no refresh token)."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - RFC 6749 token type
    expires_in: int = Field(description="seconds")
    scope: str


class RefreshRequest(BaseModel):
    model_config = _STRICT

    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(BaseModel):
    model_config = _STRICT

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordTokenUse(BaseModel):
    """Accept an invitation or a reset: the one-time token and the new password."""

    model_config = _STRICT

    token: str = Field(min_length=10, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class OwnerDetails(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Email
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class Registration(BaseModel):
    """An enterprise and its first owner, in one step."""

    model_config = _STRICT

    organisation: EnterpriseDetails
    owner: OwnerDetails


class Registered(BaseModel):
    organisation: OrganisationPublic
    user: UserSelf
