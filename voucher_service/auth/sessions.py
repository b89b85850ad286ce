"""Login sessions and rotating refresh tokens.

Refresh tokens are 256 random bits, so a plain SHA-256 is a sufficient stored form (nothing to
brute-force). Each use consumes the token with an atomic conditional UPDATE, so two concurrent
uses cannot both succeed; presenting a consumed token again ends the whole session, because
only a copy of a stolen token can be presented twice.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.auth.models import AuthSession, RefreshToken
from voucher_service.settings import Settings

REFRESH_PREFIX = "vrt_"
BROWSER_PREFIX = "vbs_"


def token_digest(token: str) -> str:
    """SHA-256 hex of a high-entropy one-time token (refresh, invitation, reset)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SessionGrant:
    session: AuthSession
    refresh_token: str
    refresh_expires_in: int


async def _new_refresh(
    session: AsyncSession, auth_session: AuthSession, settings: Settings
) -> SessionGrant:
    token = new_opaque_token(REFRESH_PREFIX)
    lifetime = timedelta(seconds=settings.refresh_token_seconds)
    expires_at = min(utcnow() + lifetime, auth_session.expires_at)
    session.add(
        RefreshToken(
            session_id=auth_session.id, token_hash=token_digest(token), expires_at=expires_at
        )
    )
    await session.flush()
    return SessionGrant(auth_session, token, int((expires_at - utcnow()).total_seconds()))


async def start_session(
    session: AsyncSession,
    user_id: uuid.UUID,
    settings: Settings,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> SessionGrant:
    """A new login session for ``user_id`` with its first refresh token."""
    auth_session = AuthSession(
        user_id=user_id,
        expires_at=utcnow() + timedelta(seconds=settings.session_max_seconds),
        address=address[:64] if address else None,
        user_agent=user_agent[:300] if user_agent else None,
    )
    session.add(auth_session)
    await session.flush()
    return await _new_refresh(session, auth_session, settings)


@dataclass(frozen=True)
class BrowserGrant:
    """A portal session and the opaque token its cookie carries (only its hash is stored)."""

    session: AuthSession
    token: str


async def start_browser_session(
    session: AsyncSession,
    user_id: uuid.UUID,
    settings: Settings,
    *,
    address: str | None = None,
    user_agent: str | None = None,
) -> BrowserGrant:
    """A new portal session for ``user_id``: no refresh tokens, an idle and absolute limit."""
    token, now = new_opaque_token(BROWSER_PREFIX), utcnow()
    auth_session = AuthSession(
        user_id=user_id,
        expires_at=now + timedelta(seconds=settings.portal_session_max_seconds),
        address=address[:64] if address else None,
        user_agent=user_agent[:300] if user_agent else None,
        browser_token_hash=token_digest(token),
        last_seen_at=now,
    )
    session.add(auth_session)
    await session.flush()
    return BrowserGrant(auth_session, token)


async def touch_browser_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    """Record a request on a portal session (what its idle limit counts from)."""
    await session.execute(
        update(AuthSession).where(col(AuthSession.id) == session_id).values(last_seen_at=utcnow())
    )


@dataclass(frozen=True)
class RefreshOutcome:
    """A new grant, or why there is none (``reuse`` means the session was ended)."""

    grant: SessionGrant | None
    failure: str | None = None
    session_id: uuid.UUID | None = None


async def use_refresh_token(
    session: AsyncSession, token: str, settings: Settings
) -> RefreshOutcome:
    """Consume ``token`` and return the next one; a replay ends the session."""
    digest, now = token_digest(token), utcnow()
    consumed = (
        await session.execute(
            update(RefreshToken)
            .where(
                col(RefreshToken.token_hash) == digest,
                col(RefreshToken.used_at).is_(None),
                col(RefreshToken.expires_at) > now,
            )
            .values(used_at=now)
            .returning(col(RefreshToken.session_id))
        )
    ).first()
    if consumed is None:
        return await _refused(session, digest)
    auth_session = await session.get(AuthSession, consumed[0])
    if auth_session is None or auth_session.revoked_at or auth_session.expires_at <= now:
        return RefreshOutcome(None, "session_ended", consumed[0])
    return RefreshOutcome(await _new_refresh(session, auth_session, settings), None, consumed[0])


async def _refused(session: AsyncSession, digest: str) -> RefreshOutcome:
    known = await session.scalar(select(RefreshToken).where(col(RefreshToken.token_hash) == digest))
    if known is None:
        return RefreshOutcome(None, "unknown")
    if known.used_at is not None:
        await revoke_session(session, known.session_id, reason="refresh_reuse")
        return RefreshOutcome(None, "reuse", known.session_id)
    return RefreshOutcome(None, "expired", known.session_id)


async def session_of_refresh_token(session: AsyncSession, token: str) -> uuid.UUID | None:
    """The session a refresh token belongs to (used or not), for logout."""
    return await session.scalar(
        select(RefreshToken.session_id).where(col(RefreshToken.token_hash) == token_digest(token))
    )


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, *, reason: str) -> bool:
    """End one session; True if it was still open."""
    result = await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID, *, reason: str) -> int:
    """End every open session of a user (password change, reset, suspension)."""
    result = await session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
