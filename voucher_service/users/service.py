"""User rules: creation with a role that fits the organisation, invitations, password changes,
resets, suspension. Every change is audited in the caller's unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.auth import passwords
from voucher_service.auth.sessions import new_opaque_token, revoke_user_sessions, token_digest
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users.errors import EmailTaken, RoleNotAllowed, UserStateConflict
from voucher_service.users.models import (
    ROLES_BY_KIND,
    PasswordToken,
    PasswordTokenPurpose,
    Role,
    User,
    UserStatus,
)

Actor = AuditActor | Auditable | None
PASSWORD_TOKEN_PREFIX = "vpt_"  # noqa: S105 - a prefix


@dataclass(frozen=True)
class SetupToken:
    """A password set-up token, shown once, and when it expires."""

    token: str
    expires_at: datetime


def normalise_email(email: str) -> str:
    return email.strip().lower()


def summary(user: User) -> dict[str, object]:
    """What the audit trail keeps about a user."""
    return {"email": user.email, "role": user.role, "status": user.status}


async def create_user(
    session: AsyncSession,
    settings: Settings,
    *,
    organisation: Organisation,
    email: str,
    name: str,
    role: Role,
    actor: Actor,
    password: str | None = None,
) -> User:
    """A user of ``organisation``; without a password it is ``invited`` until it sets one."""
    if role not in ROLES_BY_KIND[OrganisationKind(organisation.kind)]:
        raise RoleNotAllowed(
            f"The role {role} does not exist in a {organisation.kind}.",
            detail_zh=f"{organisation.kind} 类型的机构没有 {role} 角色。",
        )
    email = normalise_email(email)
    if password is not None:
        passwords.check_password(settings, password, email=email)
    await _ensure_email_free(session, email)
    user = User(
        organisation_id=organisation.id,
        email=email,
        name=name.strip(),
        role=role,
        status=UserStatus.active if password is not None else UserStatus.invited,
    )
    if password is not None:
        user.password_hash = await passwords.hash_password(settings, password)
        user.password_changed_at = utcnow()
    await _insert(session, user)
    await audit.record(
        session, action="user.created", actor=actor, target=("user", user.id), after=summary(user)
    )
    return user


async def invite_user(
    session: AsyncSession,
    settings: Settings,
    *,
    organisation: Organisation,
    email: str,
    name: str,
    role: Role,
    actor: Actor,
) -> tuple[User, SetupToken]:
    """An invited user of ``organisation`` and the invitation token (shown once) to set up."""
    user = await create_user(
        session, settings, organisation=organisation, email=email, name=name, role=role, actor=actor
    )
    token = await issue_password_token(
        session, settings, user, purpose=PasswordTokenPurpose.invitation, actor=actor
    )
    return user, token


async def _ensure_email_free(session: AsyncSession, email: str) -> None:
    if await session.scalar(select(User.id).where(col(User.email) == email)) is not None:
        raise EmailTaken(
            "An account with this e-mail already exists.", detail_zh="该邮箱已有账户。"
        )


async def _insert(session: AsyncSession, user: User) -> None:
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise EmailTaken(
            "An account with this e-mail already exists.", detail_zh="该邮箱已有账户。"
        ) from exc


async def issue_password_token(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    purpose: PasswordTokenPurpose,
    actor: Actor,
) -> SetupToken:
    """A one-time token (shown once) with which ``user`` sets a password."""
    token = new_opaque_token(PASSWORD_TOKEN_PREFIX)
    expires_at = utcnow() + timedelta(seconds=settings.password_token_seconds)
    session.add(
        PasswordToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_digest(token),
            expires_at=expires_at,
            created_by_id=getattr(_actor(actor), "id", None),
        )
    )
    await session.flush()
    return SetupToken(token, expires_at)


def _actor(actor: Actor) -> AuditActor | None:
    if actor is None or isinstance(actor, AuditActor):
        return actor
    return actor.audit_actor


async def reset_password(
    session: AsyncSession, settings: Settings, user: User, *, actor: Actor
) -> SetupToken:
    """Administrator reset: the old password and every session stop; returns a set-up token."""
    if user.status == UserStatus.suspended:
        raise UserStateConflict(
            "Reactivate the account before resetting its password.",
            detail_zh="请先恢复该账户，再重置密码。",
        )
    user.password_hash = None
    await _end_sessions(session, user, reason="password_reset")
    token = await issue_password_token(
        session, settings, user, purpose=PasswordTokenPurpose.reset, actor=actor
    )
    await audit.record(session, action="user.password_reset", actor=actor, target=("user", user.id))
    return token


async def set_password(
    session: AsyncSession, settings: Settings, user: User, password: str
) -> None:
    """Set a new password (rules checked); every existing session and token stops working."""
    passwords.check_password(settings, password, email=user.email)
    user.password_hash = await passwords.hash_password(settings, password)
    user.password_changed_at = utcnow()
    user.failed_login_count, user.locked_until = 0, None
    await _end_sessions(session, user, reason="password_changed")


async def _end_sessions(session: AsyncSession, user: User, *, reason: str) -> None:
    user.auth_epoch += 1
    user.updated_at = utcnow()
    await revoke_user_sessions(session, user.id, reason=reason)
    await session.flush()


async def suspend_user(session: AsyncSession, user: User, *, actor: Actor, reason: str) -> User:
    """Suspend an account: its sessions end and its tokens stop at once (never one's own)."""
    acting = _actor(actor)
    if acting is not None and acting.type == "user" and acting.id == user.id:
        raise UserStateConflict("You cannot suspend yourself.", detail_zh="不能暂停自己的账户。")
    if user.status == UserStatus.suspended:
        raise UserStateConflict("The account is already suspended.", detail_zh="该账户已被暂停。")
    before = summary(user)
    user.status = UserStatus.suspended
    await _end_sessions(session, user, reason="suspended")
    await audit.record(
        session,
        action="user.suspended",
        actor=actor,
        target=("user", user.id),
        before=before,
        after=summary(user),
        reason=reason,
    )
    return user


async def reactivate_user(session: AsyncSession, user: User, *, actor: Actor) -> User:
    """Lift a suspension (an account without a password stays invited)."""
    if user.status != UserStatus.suspended:
        raise UserStateConflict("The account is not suspended.", detail_zh="该账户未被暂停。")
    before = summary(user)
    user.status = UserStatus.active if user.password_hash else UserStatus.invited
    user.updated_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        action="user.reactivated",
        actor=actor,
        target=("user", user.id),
        before=before,
        after=summary(user),
    )
    return user


async def count_active_owners(session: AsyncSession, organisation_id: uuid.UUID) -> int:
    """Active owners of an enterprise (the last one cannot be suspended by another owner)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                col(User.organisation_id) == organisation_id,
                col(User.role) == Role.owner,
                col(User.status) == UserStatus.active,
            )
        )
        or 0
    )


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user with ``user_id``, if any."""
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with ``email`` (normalised), if any."""
    return await session.scalar(select(User).where(col(User.email) == normalise_email(email)))
