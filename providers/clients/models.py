"""Tables: ``api_client`` (a provider's credential) and ``client_assertion_jti`` (replay guard).

An API client belongs to a provider organisation (``organisation.id``; referenced by table name
only, since this package may not import the application). It authenticates either with a client
secret (stored as a keyed hash; after a rotation the previous one stays valid for a grace
period) or with a registered public JWK (``private_key_jwt``; the previous key likewise).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.sqltypes import UTCDateTime, new_id, utcnow


class AuthMethod(StrEnum):
    client_secret = "client_secret"  # noqa: S105 - a method name
    private_key_jwt = "private_key_jwt"


class ClientStatus(StrEnum):
    active = "active"
    revoked = "revoked"


class ApiClient(SQLModel, table=True):
    """A provider's API credential."""

    __tablename__ = "api_client"
    __table_args__ = (
        sa.CheckConstraint(
            "auth_method IN ('client_secret', 'private_key_jwt')", name="auth_method"
        ),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    auth_method: str = Field(max_length=20)
    scopes: str = Field(max_length=500)
    status: str = Field(default=ClientStatus.active, max_length=20)
    secret_hash: str | None = Field(default=None, max_length=64)
    public_jwk: str | None = Field(default=None, max_length=4000)
    # The credential replaced by the last rotation, accepted until previous_valid_until.
    previous_secret_hash: str | None = Field(default=None, max_length=64)
    previous_public_jwk: str | None = Field(default=None, max_length=4000)
    previous_valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: uuid.UUID | None = Field(default=None)


class ClientAssertionJti(SQLModel, table=True):
    """A ``jti`` already used by a client, remembered until the assertion expires."""

    __tablename__ = "client_assertion_jti"

    api_client_id: uuid.UUID = Field(foreign_key="api_client.id", primary_key=True)
    jti: str = Field(max_length=200, primary_key=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
