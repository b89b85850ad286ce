"""Request and response shapes for provider API clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from providers.clients.models import ApiClient, AuthMethod

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApiClientCreate(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100, examples=["billing job"])
    auth_method: AuthMethod = AuthMethod.client_secret
    scopes: list[str] | None = Field(default=None, description="default: every provider scope")
    public_jwk: dict[str, Any] | None = Field(
        default=None, description="the public JWK (EC P-256 or RSA ≥ 2048) for private_key_jwt"
    )


class ApiClientRotate(BaseModel):
    model_config = _STRICT

    public_jwk: dict[str, Any] | None = Field(
        default=None, description="the new public JWK (private_key_jwt clients only)"
    )


class ApiClientPublic(BaseModel):
    """A credential as its provider's operators see it (never the secret or its hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    auth_method: AuthMethod
    scopes: list[str]
    status: str
    created_at: datetime
    rotated_at: datetime | None
    previous_valid_until: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @field_validator("scopes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value

    @classmethod
    def of(cls, client: ApiClient) -> ApiClientPublic:
        return cls.model_validate(client)


class ApiClientIssued(ApiClientPublic):
    client_secret: str | None = Field(
        default=None, description="shown once, now: store it in your secret manager"
    )


class ProviderSelf(BaseModel):
    """What an API client's token says about its caller."""

    client_id: str
    organisation_id: uuid.UUID
    scopes: list[str]
