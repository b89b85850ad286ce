"""Housekeeping of identity state: forget what can no longer matter."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from ledger.sqltypes import utcnow
from providers.clients import service as clients
from voucher_service.auth.models import AuthSession, RefreshToken
from voucher_service.ratelimit import service as ratelimit
from voucher_service.worker.registry import JobContext, job


@job("auth.housekeeping", every=timedelta(minutes=10), exclusive=True)
async def housekeeping(context: JobContext) -> None:
    """Purge expired assertion ids, idle rate-limit buckets, long-expired sessions and tokens."""
    now = utcnow()
    async with context.database.unit_of_work() as session:
        await clients.purge_expired_jtis(session, now)
        await ratelimit.purge(session, window_seconds=context.settings.rate_limit_window_seconds)
        # Used refresh tokens are kept a day past expiry so a late replay is still recognised.
        await session.execute(
            delete(RefreshToken).where(col(RefreshToken.expires_at) < now - timedelta(days=1))
        )
        # Sessions outlive their refresh tokens (all expire no later than the session) by a
        # month, so "who was logged in when" can still be looked up for a while.
        await session.execute(
            delete(AuthSession).where(col(AuthSession.expires_at) < now - timedelta(days=30))
        )
