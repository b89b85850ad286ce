"""Authorisation as dependencies: every route states who may call it in its signature.

    async def route(principal: EnterpriseOwner, ...)          # a role
    async def route(principal: CurrentProvider, ...)          # a provider API client
    async def route(member: Annotated[User, Depends(valid_member_for_owner)])  # load + authorise

Refusals are audited in a unit of work of their own (the request's rolls back). Texts are the
same whether an object is missing or belongs to someone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor, Outcome, Target
from voucher_service.auth import principal_cache, sessions
from voucher_service.auth.errors import (
    AccountSuspended,
    Forbidden,
    InvalidToken,
    NotFound,
    SessionRequired,
)
from voucher_service.auth.principal import (
    Principal,
    load_browser_principal,
    load_client_principal,
    load_user_principal,
)
from voucher_service.auth.tokens import TokenRejected, decode_access_token
from voucher_service.dependencies import get_database, get_keyring, get_settings
from voucher_service.kit.context import current_client_address
from voucher_service.organisations.models import OrganisationKind
from voucher_service.ratelimit import local as local_ratelimit
from voucher_service.ratelimit import service as ratelimit
from voucher_service.users.models import ROLES_BY_KIND, Role

# One scheme for both kinds of caller, so /docs can log in either way.
oauth2_scheme = OAuth2(
    flows=OAuthFlows(
        password=OAuthFlowPassword(tokenUrl="/v1/auth/token"),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/v1/oauth/token"),
    ),
    scheme_name="oauth2",
    auto_error=False,
)


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _refuse(request: Request, actor: AuditActor | Principal, reason: str, **kw: Any) -> None:
    await audit.record_separately(
        get_database(request),
        action=kw.pop("action", "access.denied"),
        actor=actor,
        outcome=Outcome.failure,
        reason=reason,
        after={"method": request.method, "path": request.url.path},
        **kw,
    )


#: Under this prefix (the portal) the caller is the browser session named by the cookie below,
#: never a bearer token; everywhere else it is the bearer token, never a cookie. So a cookie can
#: never carry a cross-site request into the API, and every dependency below serves both.
BROWSER_PATH_PREFIX = "/portal"
#: ``__Host-``: the browser accepts it only Secure, for the whole host, from the host itself.
BROWSER_COOKIE = "__Host-vs_session"
#: A portal session's last request is written at most this often (a write per page is waste).
TOUCH_EVERY = timedelta(seconds=60)


async def get_principal(
    request: Request, authorization: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The verified caller, loaded fresh: 401 for a bad token, 403 for a suspended account.

    Loaded in a short read-only unit of work of its own, before the request's unit of work
    begins: on SQLite a writing request holds the database's write lock from its first
    statement. An API client's principal is then reused for ``principal_cache_seconds``
    (``principal_cache``: dropped at once when this process commits a change to a client or an
    organisation; other replicas notice when the entry runs out).
    """
    if request.url.path.startswith(BROWSER_PATH_PREFIX):
        return await browser_principal(request)
    token = _bearer(authorization)
    if token is None:
        raise InvalidToken()
    settings = get_settings(request)
    cache = principal_cache.cache_for(request.app.state, settings.principal_cache_seconds)
    cached = cache.get(token, utcnow())
    if cached is not None:
        return cached
    try:
        claims = decode_access_token(get_keyring(request), settings, token)
        loader = load_user_principal if claims.kind == "user" else load_client_principal
        async with get_database(request).unit_of_work(readonly=True) as session:
            principal = await loader(session, claims)
        cache.put(token, principal, claims.expires_at)
        return principal
    except TokenRejected as exc:
        actor = AuditActor.anonymous(exc.subject)
        await _refuse(request, actor, exc.reason, action="auth.token.rejected")
        raise InvalidToken() from exc
    except AccountSuspended:
        actor = AuditActor(claims.kind, claims.subject, organisation_id=claims.organisation_id)
        await _refuse(request, actor, "account_suspended")
        raise


async def browser_principal(request: Request) -> Principal:
    """The user of the portal session in the cookie, checked exactly like a token's user."""
    token = request.cookies.get(BROWSER_COOKIE)
    if not token:
        raise SessionRequired()
    database = get_database(request)
    idle = get_settings(request).portal_session_idle_seconds
    try:
        async with database.unit_of_work(readonly=True) as session:
            state = await load_browser_principal(session, token, idle_seconds=idle)
    except TokenRejected as exc:
        await _refuse(
            request, AuditActor.anonymous(exc.subject), exc.reason, action="auth.session.rejected"
        )
        raise SessionRequired() from exc
    except AccountSuspended as exc:
        await _refuse(request, AuditActor("user", exc.subject), "account_suspended")
        raise
    principal = state.principal
    if state.last_seen_at is None or utcnow() - state.last_seen_at >= TOUCH_EVERY:
        assert principal.session_id is not None  # noqa: S101 - a user's principal has one
        async with database.unit_of_work() as session:
            await sessions.touch_browser_session(session, principal.session_id)
    request.state.principal = principal  # the portal's navigation shows who is signed in
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(request: Request, principal: CurrentPrincipal) -> Principal:
    """A logged-in person (any role); API clients are refused."""
    if not principal.is_user:
        await _refuse(request, principal, "user_required")
        raise Forbidden()
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def get_current_provider(request: Request, principal: CurrentPrincipal) -> Principal:
    """A provider's API client, counted against the provider rate limits."""
    if not principal.is_client or principal.organisation_kind != OrganisationKind.provider:
        await _refuse(request, principal, "provider_client_required")
        raise Forbidden()
    settings = get_settings(request)
    address = current_client_address.get() or "unknown"
    # Counted per API process, in memory (voucher_service/ratelimit/local.py).
    limiter = local_ratelimit.limiter_for(request.app.state, settings.rate_limit_window_seconds)
    limiter.check(
        [
            ratelimit.Limit(
                f"provider:client:{principal.id}", settings.rate_limit_provider_per_client
            ),
            ratelimit.Limit(
                ratelimit.key_for("provider", "address", address),
                settings.rate_limit_provider_per_address,
            ),
        ]
    )
    return principal


CurrentProvider = Annotated[Principal, Depends(get_current_provider)]

# Roles that may decide on money; a sysadmin (system duty) and an auditor (audit duty) never are.
_NEVER_APPROVE_MONEY = frozenset({Role.sysadmin, Role.auditor})


class RequireRoles:
    """Dependency: a user holding one of ``roles``."""

    def __init__(self, *roles: Role, approves_money: bool = False) -> None:
        if not roles:
            raise ValueError("name at least one role")
        if approves_money and _NEVER_APPROVE_MONEY & set(roles):
            raise ValueError(
                "sysadmins and auditors can never approve money (separation of duties)"
            )
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, principal: CurrentUser) -> Principal:
        if principal.role not in self.roles:
            await _refuse(request, principal, "role_not_allowed")
            raise Forbidden()
        return principal


def requires_roles(*roles: Role, approves_money: bool = False) -> Any:
    """``Annotated[Principal, requires_roles(Role.reviewer)]``: the caller must hold a role."""
    return Depends(RequireRoles(*roles, approves_money=approves_money))


class RequireScopes:
    """Dependency: a provider API client whose token carries every one of ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = frozenset(scopes)

    async def __call__(self, request: Request, principal: CurrentProvider) -> Principal:
        if not self.scopes <= principal.scopes:
            await _refuse(request, principal, "scope_missing")
            raise Forbidden()
        return principal


def requires_scopes(*scopes: str) -> Any:
    """``Annotated[Principal, requires_scopes("redemptions:write")]`` for provider routes."""
    return Depends(RequireScopes(*scopes))


class RequireOperatorOrScopes:
    """Dependency: a provider's operator (a person), or its API client holding ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        if not scopes:
            raise ValueError("name the scope an API client needs")
        self.clients = RequireScopes(*scopes)

    async def __call__(self, request: Request, principal: CurrentPrincipal) -> Principal:
        if principal.is_user:
            if principal.role != Role.operator:
                await _refuse(request, principal, "role_not_allowed")
                raise Forbidden()
            return principal
        # An API client goes through the same checks (and rate limits) as on CurrentProvider.
        return await self.clients(request, await get_current_provider(request, principal))


def provider_operator_or_scopes(*scopes: str) -> Any:
    """``Annotated[Principal, provider_operator_or_scopes("webhooks:manage")]``: either caller."""
    return Depends(RequireOperatorOrScopes(*scopes))


EnterpriseUser = Annotated[Principal, requires_roles(Role.owner, Role.member)]
EnterpriseOwner = Annotated[Principal, requires_roles(Role.owner)]
ProviderOperator = Annotated[Principal, requires_roles(Role.operator)]
AuthorityUser = Annotated[Principal, requires_roles(*ROLES_BY_KIND[OrganisationKind.authority])]
ProgramAdmin = Annotated[Principal, requires_roles(Role.program_admin)]
SysAdmin = Annotated[Principal, requires_roles(Role.sysadmin)]
AuditReader = Annotated[Principal, requires_roles(Role.auditor, Role.sysadmin)]


async def refuse_not_found(request: Request, principal: Principal, target: Target) -> NotFound:
    """Audit an attempt on another organisation's object; returns the 404 to raise."""
    await _refuse(request, principal, "not_in_organisation", target=target)
    return NotFound()


Owned = TypeVar("Owned")


async def load_owned(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    model: type[Owned],
    object_id: uuid.UUID,
    *,
    owner: Callable[[Owned], uuid.UUID | None] = lambda obj: getattr(obj, "organisation_id", None),
    target_type: str | None = None,
) -> Owned:
    """The object ``object_id`` of ``model`` if it belongs to the caller's organisation.

    A missing object and another organisation's object get the same 404; the second is audited.
    The building block of load-and-authorise dependencies::

        async def valid_voucher_for_holder(request, principal: EnterpriseUser, session: SessionDep,
                                           voucher_id: uuid.UUID) -> Voucher:
            return await load_owned(request, session, principal, Voucher, voucher_id,
                                    owner=lambda v: v.holder_id)
    """
    found = await session.get(model, object_id)
    if found is None:
        raise NotFound()
    if not principal.owns(owner(found)):
        kind = target_type or _target_type(model)
        raise await refuse_not_found(request, principal, (kind, object_id))
    return found


def _target_type(model: type[Any]) -> str:
    return str(getattr(model, "__tablename__", model.__name__.lower()))
