"""The ``provider_callback`` table: every callback a provider sent us that we accepted.

A row is the evidence of what the provider said: the exact body, the detached JWS over it and the
public key that verified it (kept here because the API client's key may be rotated away later),
so the statement can be verified again by anyone, years later. ``(provider_id, callback_id)`` is
unique: the provider's ``id`` is its idempotency key. ``outcome`` is what the handler answered,
returned again to a retry of the same callback.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ledger.sqltypes import NAMING_CONVENTION, UTCDateTime, new_id, utcnow

SQLModel.metadata.naming_convention = NAMING_CONVENTION


class ProviderCallback(SQLModel, table=True):
    """One accepted inbound callback, its evidence, and its outcome."""

    __tablename__ = "provider_callback"
    __table_args__: ClassVar[Any] = (sa.UniqueConstraint("provider_id", "callback_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # When we received it.
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    provider_id: uuid.UUID = Field(foreign_key="organisation.id")
    api_client_id: uuid.UUID = Field(foreign_key="api_client.id")
    callback_id: str = Field(max_length=200)
    callback_type: str = Field(max_length=64)
    # The timestamp the provider signed.
    sent_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    content_sha256: str = Field(max_length=64)
    body: str = Field(sa_type=sa.Text, nullable=False)
    signature: str = Field(sa_type=sa.Text, nullable=False)
    signing_key: str = Field(max_length=4000)
    # Set by the handler in the same transaction as the insert; never null once committed.
    outcome: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
