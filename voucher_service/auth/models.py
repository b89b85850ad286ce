"""Login sessions and their refresh tokens.

A session starts at a password login and ends at logout, password change, suspension or its
absolute lifetime. Access tokens name their session (``sid``), so ending it stops them at once.
Refresh tokens rotate on every use; presenting a used one again ends the session (theft).

A portal (browser) session is the same row with ``browser_token_hash`` set: the browser holds
the opaque token in a cookie, and it has no refresh tokens. It also ends after
``portal_session_idle_seconds`` without a request (``last_seen_at``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from voucher_service.kit.models import IdModel, UTCDateTime


class AuthSession(IdModel, table=True):
    __tablename__ = "auth_session"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    # SHA-256 of the portal cookie's 256-bit random token; None for an API session.
    browser_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefreshToken(IdModel, table=True):
    """One refresh token; only the SHA-256 of the 256-bit random token is stored."""

    __tablename__ = "refresh_token"

    session_id: uuid.UUID = Field(foreign_key="auth_session.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
