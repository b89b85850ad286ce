"""Who is calling: a user (with a role) or a provider's API client (with scopes).

A principal is loaded from the database on every request, after the token has verified: a
suspended user or organisation, a revoked client, an ended session or a changed password stops
the token at once, not when it expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from ledger.sqltypes import utcnow
from providers.clients.models import ApiClient, ClientStatus
from voucher_service.audit.service import AuditActor
from voucher_service.auth.errors import AccountSuspended
from voucher_service.auth.models import AuthSession
from voucher_service.auth.sessions import token_digest
from voucher_service.auth.tokens import AccessClaims, PrincipalKind, TokenRejected
from voucher_service.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from voucher_service.users.models import Role, User, UserStatus


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of this request."""

    kind: PrincipalKind
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_kind: OrganisationKind
    role: Role | None
    label: str
    scopes: frozenset[str] = frozenset()
    session_id: uuid.UUID | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    def has_role(self, *roles: Role) -> bool:
        """Whether this is a user holding one of ``roles``."""
        return self.is_user and self.role in roles

    def owns(self, organisation_id: uuid.UUID | None) -> bool:
        """Whether an object of ``organisation_id`` belongs to the caller's organisation."""
        return organisation_id is not None and organisation_id == self.organisation_id

    @property
    def audit_actor(self) -> AuditActor:
        return AuditActor(
            type=self.kind,
            id=self.id,
            label=self.label,
            organisation_id=self.organisation_id,
            role=self.role.value if self.role else None,
        )


def _check_organisation(organisation: Organisation, claims: AccessClaims) -> None:
    if organisation.id != claims.organisation_id:
        raise TokenRejected("organisation_mismatch")
    if organisation.status != OrganisationStatus.active:
        raise AccountSuspended("Your organisation is suspended.", detail_zh="您的机构已被暂停。")


def _session_ended(auth_session: AuthSession, now: datetime) -> bool:
    return auth_session.revoked_at is not None or auth_session.expires_at <= now


def _user_principal(user: User, organisation: Organisation, auth_session: AuthSession) -> Principal:
    if organisation.status != OrganisationStatus.active:
        problem = AccountSuspended(
            "Your organisation is suspended.", detail_zh="您的机构已被暂停。"
        )
    elif user.status != UserStatus.active:
        problem = AccountSuspended(
            "Your account is not active.", detail_zh="您的账户未激活或已暂停。"
        )
    else:
        return Principal(
            kind="user",
            id=user.id,
            organisation_id=organisation.id,
            organisation_kind=OrganisationKind(organisation.kind),
            role=Role(user.role),
            label=user.email,
            session_id=auth_session.id,
        )
    problem.subject = user.id
    raise problem


def _user_session_query() -> Select[User, Organisation, AuthSession]:
    return (
        select(User, Organisation, AuthSession)
        .join(Organisation, col(Organisation.id) == col(User.organisation_id))
        .join(AuthSession, col(AuthSession.user_id) == col(User.id))
    )


async def load_user_principal(session: AsyncSession, claims: AccessClaims) -> Principal:
    """The user behind ``claims``, if the user, organisation and session are still valid."""
    row = (
        await session.execute(
            _user_session_query().where(
                col(User.id) == claims.subject,
                col(AuthSession.id) == claims.session_id,
                col(AuthSession.browser_token_hash).is_(None),
            )
        )
    ).first()
    if row is None:
        raise TokenRejected("unknown_subject_or_session")
    user, organisation, auth_session = row
    if _session_ended(auth_session, utcnow()):
        raise TokenRejected("session_ended")
    if user.auth_epoch != claims.epoch:
        raise TokenRejected("credentials_changed")
    if organisation.id != claims.organisation_id:
        raise TokenRejected("organisation_mismatch")
    return _user_principal(user, organisation, auth_session)


@dataclass(frozen=True)
class BrowserSessionState:
    """The principal of a portal session, and when the session last saw a request."""

    principal: Principal
    last_seen_at: datetime | None


async def load_browser_principal(
    session: AsyncSession, token: str, *, idle_seconds: int
) -> BrowserSessionState:
    """The user of the portal session whose cookie carries ``token``, checked like a token's.

    The same checks as :func:`load_user_principal` (session open, user and organisation
    active), plus the idle limit: a session unused for ``idle_seconds`` has ended.
    """
    row = (
        await session.execute(
            _user_session_query().where(col(AuthSession.browser_token_hash) == token_digest(token))
        )
    ).first()
    if row is None:
        raise TokenRejected("unknown_session")
    user, organisation, auth_session = row
    now = utcnow()
    if _session_ended(auth_session, now):
        raise TokenRejected("session_ended", str(user.id))
    seen = auth_session.last_seen_at or auth_session.created_at
    if seen + timedelta(seconds=idle_seconds) <= now:
        raise TokenRejected("session_idle", str(user.id))
    return BrowserSessionState(
        _user_principal(user, organisation, auth_session), auth_session.last_seen_at
    )


async def load_client_principal(session: AsyncSession, claims: AccessClaims) -> Principal:
    """The API client behind ``claims``, if it is active and its provider is not suspended."""
    row = (
        await session.execute(
            select(ApiClient, Organisation)
            .join(Organisation, col(Organisation.id) == col(ApiClient.organisation_id))
            .where(col(ApiClient.id) == claims.subject)
        )
    ).first()
    if row is None:
        raise TokenRejected("unknown_client")
    client, organisation = row
    if client.status != ClientStatus.active:
        raise TokenRejected("client_revoked")
    _check_organisation(organisation, claims)
    if organisation.kind != OrganisationKind.provider:
        raise TokenRejected("client_not_provider")
    return Principal(
        kind="client",
        id=client.id,
        organisation_id=organisation.id,
        organisation_kind=OrganisationKind.provider,
        role=None,
        label=client.client_id,
        scopes=claims.scopes & frozenset(client.scopes.split()),
    )
