"""Rate limits of the unauthenticated identity endpoints, shared by the API and the portal."""

from __future__ import annotations

from fastapi import Depends

from voucher_service.audit import service as audit
from voucher_service.auth.errors import RateLimited
from voucher_service.db import Database
from voucher_service.dependencies import DatabaseDep, SettingsDep
from voucher_service.kit.context import current_client_address
from voucher_service.ratelimit import service as ratelimit
from voucher_service.settings import Settings
from voucher_service.users import service as users


def client_address() -> str:
    """The caller's address as the server saw it (after trusted proxy headers)."""
    return current_client_address.get() or "unknown"


async def limit_address(database: Database, settings: Settings) -> None:
    """Count a login-like call against the caller's address (429 beyond the limit)."""
    address = client_address()
    key = ratelimit.key_for("login", "address", address)
    limit = ratelimit.Limit(key, settings.rate_limit_login_per_address)
    await _check_audited(database, settings, limit, f"address {address}")


async def limit_account(database: Database, settings: Settings, email: str) -> None:
    """Count a password attempt against the account named by ``email`` (429 beyond)."""
    account = users.normalise_email(email)
    key = ratelimit.key_for("login", "account", account)
    limit = ratelimit.Limit(key, settings.rate_limit_login_per_account)
    await _check_audited(database, settings, limit, account)


async def _check_audited(
    database: Database, settings: Settings, limit: ratelimit.Limit, label: str
) -> None:
    """Check ``limit``; the first refusal of a window is audited (a brute force is visible)."""
    try:
        await ratelimit.check(database, [limit], window_seconds=settings.rate_limit_window_seconds)
    except RateLimited as refusal:
        if refusal.first_refusal:
            await audit.record_separately(
                database,
                action="auth.rate_limited",
                actor=audit.AuditActor.anonymous(label[:200]),
                reason="rate_limited",
            )
        raise


async def limit_by_address(database: DatabaseDep, settings: SettingsDep) -> None:
    """Dependency form of :func:`limit_address`."""
    await limit_address(database, settings)


AddressLimited = Depends(limit_by_address)
