"""User authentication: password login with lockout, refresh, logout, password changes.

Functions that can refuse return an outcome instead of raising, so that the caller's unit of
work still commits what the refusal must leave behind (failure counters, audit events, a replayed
refresh token's revoked session); the router raises the refusal after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor, Outcome
from voucher_service.auth import passwords, sessions
from voucher_service.auth.errors import (
    AccountSuspended,
    InvalidCredentials,
    InvalidPasswordToken,
    InvalidRefreshToken,
)
from voucher_service.auth.principal import Principal
from voucher_service.auth.tokens import issue_access_token
from voucher_service.keys.service import KeyRing
from voucher_service.kit.problems import ProblemError
from voucher_service.organisations.models import Organisation, OrganisationStatus
from voucher_service.settings import Settings
from voucher_service.users import service as users
from voucher_service.users.models import PasswordToken, PasswordTokenPurpose, User, UserStatus


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True)
class AuthOutcome:
    """Tokens (or a portal session), or the problem to raise once the unit of work committed."""

    tokens: TokenPair | None = None
    refusal: ProblemError | None = None
    browser: sessions.BrowserGrant | None = None


@dataclass(frozen=True)
class Client:
    """Where a login comes from; ``browser`` asks for a portal session instead of tokens."""

    address: str | None = None
    user_agent: str | None = None
    browser: bool = False


def user_actor(user: User, organisation: Organisation | None = None) -> AuditActor:
    return AuditActor(
        type="user",
        id=user.id,
        label=user.email,
        organisation_id=organisation.id if organisation else user.organisation_id,
        role=user.role,
    )


def _grant(
    settings: Settings,
    keyring: KeyRing,
    user: User,
    grant: sessions.SessionGrant,
) -> TokenPair:
    access = issue_access_token(
        keyring,
        settings,
        kind="user",
        subject=user.id,
        organisation_id=user.organisation_id,
        role=user.role,
        session_id=grant.session.id,
        epoch=user.auth_epoch,
        lifetime_seconds=settings.access_token_seconds,
    )
    return TokenPair(access.token, access.expires_in, grant.refresh_token, grant.refresh_expires_in)


def _lock_after_failure(settings: Settings, user: User) -> None:
    user.failed_login_count += 1
    beyond = user.failed_login_count - settings.login_lockout_threshold
    if beyond >= 0:
        delay = min(
            settings.login_lockout_base_seconds * 2**beyond, settings.login_lockout_max_seconds
        )
        user.locked_until = utcnow() + timedelta(seconds=delay)


async def login(
    session: AsyncSession,
    settings: Settings,
    keyring: KeyRing,
    *,
    email: str,
    password: str,
    client: Client | None = None,
) -> AuthOutcome:
    """Check a password login; lock the account for a growing delay after repeated failures.

    The API gets tokens; the portal (``client.browser``) a browser session, by the same rules.
    """
    user = await users.get_by_email(session, email)
    locked = bool(user and user.locked_until and user.locked_until > utcnow())
    # A locked or unknown account is still checked against a (dummy) hash: equal timing.
    stored = user.password_hash if user and not locked else None
    matched = await passwords.verify_password(settings, stored, password)
    if user is None or not matched:
        reason = "unknown_account" if user is None else "locked" if locked else "wrong_password"
        if user is not None and not locked and user.password_hash is not None:
            _lock_after_failure(settings, user)
        await _login_failed(session, email, user, reason)
        return AuthOutcome(refusal=InvalidCredentials())
    organisation = await session.get(Organisation, user.organisation_id)
    if (
        user.status != UserStatus.active
        or organisation is None
        or (organisation.status != OrganisationStatus.active)
    ):
        await _login_failed(session, email, user, "account_suspended")
        return AuthOutcome(
            refusal=AccountSuspended(
                "This account or its organisation is suspended.",
                detail_zh="该账户或其所属机构已被暂停。",
            )
        )
    if user.password_hash and passwords.needs_rehash(settings, user.password_hash):
        # The parameters were raised since this hash was made, and the password is at hand.
        user.password_hash = await passwords.hash_password(settings, password)
    return await _login_succeeded(session, settings, keyring, user, client or Client())


async def _login_failed(session: AsyncSession, email: str, user: User | None, reason: str) -> None:
    await audit.record(
        session,
        action="auth.login.failed",
        actor=AuditActor.anonymous(users.normalise_email(email)),
        target=("user", user.id) if user else None,
        outcome=Outcome.failure,
        reason=reason,
    )


async def _login_succeeded(
    session: AsyncSession, settings: Settings, keyring: KeyRing, user: User, client: Client
) -> AuthOutcome:
    user.failed_login_count, user.locked_until, user.last_login_at = 0, None, utcnow()
    outcome, session_id = await _start(session, settings, keyring, user, client)
    await audit.record(
        session,
        action="auth.login.succeeded",
        actor=user_actor(user),
        target=("session", session_id),
        after={"channel": "portal" if client.browser else "api"},
    )
    return outcome


async def _start(
    session: AsyncSession, settings: Settings, keyring: KeyRing, user: User, client: Client
) -> tuple[AuthOutcome, uuid.UUID]:
    """A new session for ``user``, and its id: a portal session, or API tokens."""
    where = {"address": client.address, "user_agent": client.user_agent}
    if client.browser:
        browser = await sessions.start_browser_session(session, user.id, settings, **where)
        return AuthOutcome(browser=browser), browser.session.id
    grant = await sessions.start_session(session, user.id, settings, **where)
    return AuthOutcome(tokens=_grant(settings, keyring, user, grant)), grant.session.id


async def refresh(
    session: AsyncSession, settings: Settings, keyring: KeyRing, *, refresh_token: str
) -> AuthOutcome:
    """Exchange a refresh token for new tokens; a replayed one ends its session."""
    outcome = await sessions.use_refresh_token(session, refresh_token, settings)
    grant = outcome.grant
    user = await _session_user(session, grant.session.user_id) if grant else None
    if grant is None or user is None:
        reason = outcome.failure or "account_not_active"
        await audit.record(
            session,
            action="auth.refresh.failed",
            actor=AuditActor.anonymous(),
            target=("session", outcome.session_id) if outcome.session_id else None,
            outcome=Outcome.failure,
            reason=reason,
        )
        if grant is not None:
            await sessions.revoke_session(session, grant.session.id, reason="account_not_active")
        return AuthOutcome(
            refusal=InvalidRefreshToken(
                "The refresh token is not valid.", detail_zh="刷新令牌无效。"
            )
        )
    return AuthOutcome(tokens=_grant(settings, keyring, user, grant))


async def _session_user(session: AsyncSession, user_id: object) -> User | None:
    row = (
        await session.execute(
            select(User, Organisation)
            .join(Organisation, col(Organisation.id) == col(User.organisation_id))
            .where(col(User.id) == user_id)
        )
    ).first()
    if row is None:
        return None
    user, organisation = row
    if user.status != UserStatus.active or organisation.status != OrganisationStatus.active:
        return None
    return user


async def logout(session: AsyncSession, principal: Principal, *, everywhere: bool = False) -> int:
    """End the caller's session, or every session of the caller; returns how many ended."""
    if everywhere:
        count = await sessions.revoke_user_sessions(session, principal.id, reason="logout")
    elif principal.session_id is not None:
        count = int(await sessions.revoke_session(session, principal.session_id, reason="logout"))
    else:
        count = 0
    await audit.record(
        session,
        action="auth.logout",
        actor=principal,
        target=("session", principal.session_id) if principal.session_id else None,
        after={"sessions_ended": count, "everywhere": everywhere},
    )
    return count


async def change_password(
    session: AsyncSession,
    settings: Settings,
    keyring: KeyRing,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    client: Client | None = None,
) -> AuthOutcome:
    """Change one's own password: every session ends and a new one starts for the caller."""
    user = await session.get(User, principal.id)
    if user is None or not await passwords.verify_password(
        settings, user.password_hash, current_password
    ):
        await audit.record(
            session,
            action="user.password_change.failed",
            actor=principal,
            target=("user", principal.id),
            outcome=Outcome.failure,
            reason="wrong_current_password",
        )
        if user is not None:
            _lock_after_failure(settings, user)
        return AuthOutcome(refusal=InvalidCredentials())
    await users.set_password(session, settings, user, new_password)
    await audit.record(
        session, action="user.password_changed", actor=principal, target=("user", user.id)
    )
    outcome, _session_id = await _start(session, settings, keyring, user, client or Client())
    return outcome


async def use_password_token(
    session: AsyncSession, settings: Settings, *, token: str, new_password: str
) -> AuthOutcome:
    """Accept an invitation or a reset: set the password, activate an invited account."""
    digest, now = sessions.token_digest(token), utcnow()
    row = await session.scalar(select(PasswordToken).where(col(PasswordToken.token_hash) == digest))
    user = await session.get(User, row.user_id) if row else None
    if (
        row is None
        or user is None
        or row.used_at
        or row.expires_at <= now
        or (user.status == UserStatus.suspended)
    ):
        reason = "unknown" if row is None else "used_or_expired_or_suspended"
        await audit.record(
            session,
            action="user.password_token.failed",
            actor=AuditActor.anonymous(),
            target=("user", user.id) if user else None,
            outcome=Outcome.failure,
            reason=reason,
        )
        return AuthOutcome(
            refusal=InvalidPasswordToken(
                "The token is not valid or has expired.", detail_zh="令牌无效或已过期。"
            )
        )
    # Rules first, so that a weak password does not burn the token.
    passwords.check_password(settings, new_password, email=user.email)
    consumed = await session.execute(
        update(PasswordToken)
        .where(col(PasswordToken.id) == row.id, col(PasswordToken.used_at).is_(None))
        .values(used_at=now)
    )
    if not getattr(consumed, "rowcount", 0):
        return AuthOutcome(
            refusal=InvalidPasswordToken(
                "The token is not valid or has expired.", detail_zh="令牌无效或已过期。"
            )
        )
    await users.set_password(session, settings, user, new_password)
    before = users.summary(user)
    user.status = UserStatus.active
    action = (
        "user.invitation_accepted"
        if row.purpose == PasswordTokenPurpose.invitation
        else ("user.password_set_after_reset")
    )
    await audit.record(
        session,
        action=action,
        actor=user_actor(user),
        target=("user", user.id),
        before=before,
        after=users.summary(user),
    )
    return AuthOutcome()
