"""The authorisation matrix: every route of the app, who may call it, on whose objects.

Each ``RouteCase`` names a route, the rule deciding who may call it, and, for routes on an
object, which organisations' objects to try and a factory making such an object. The test tries
every actor of the world against every target and checks that exactly the allowed combinations
succeed (a status in ``ok``) and all others are refused (401 for nobody, else 401/403/404).
A route of the app missing from ``ROUTES`` fails the suite: add its case when you add a route.
"""

from __future__ import annotations

from typing import Any

from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.webhook_cases import WEBHOOK_ROUTES
from tests.authz.world import Actor, World, unique
from tests.factories import (
    DEFAULT_PASSWORD,
    create_organisation,
    create_provider_client,
    create_user,
    make_credit_code,
)
from voucher_service.auth import sessions
from voucher_service.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from voucher_service.users import service as users
from voucher_service.users.models import PasswordTokenPurpose, Role, UserStatus

ALL_KINDS = tuple(OrganisationKind)
NEW_PASSWORD = "Matrix-Changed-77"

# --- targets ---------------------------------------------------------------------------------

_ROLE_OF_KIND = {
    OrganisationKind.enterprise: Role.member,
    OrganisationKind.provider: Role.operator,
    OrganisationKind.authority: Role.reviewer,
}


async def fresh_user(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    user = await create_user(
        world.session, organisation=owner, role=_ROLE_OF_KIND[OrganisationKind(owner.kind)]
    )
    return {"user_id": str(user.id)}


async def suspended_user(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    role = _ROLE_OF_KIND[OrganisationKind(owner.kind)]
    user = await create_user(
        world.session, organisation=owner, role=role, status=UserStatus.suspended
    )
    return {"user_id": str(user.id)}


async def the_organisation(_world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    return {"organisation_id": str(owner.id)}


async def organisation_to_change(
    world: World, owner: Organisation, actor: Actor, *, status: OrganisationStatus
) -> dict[str, str]:
    """The actor's own organisation itself, or a fresh one like ``owner`` (never a cast member)."""
    if owner == actor.organisation:
        return {"organisation_id": str(owner.id)}
    fresh = await create_organisation(
        world.session, kind=OrganisationKind(owner.kind), status=status
    )
    return {"organisation_id": str(fresh.id)}


async def active_organisation(world: World, owner: Organisation, actor: Actor) -> dict[str, str]:
    return await organisation_to_change(world, owner, actor, status=OrganisationStatus.active)


async def suspended_organisation(world: World, owner: Organisation, actor: Actor) -> dict[str, str]:
    return await organisation_to_change(world, owner, actor, status=OrganisationStatus.suspended)


async def fresh_api_client(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    issued = await create_provider_client(world.app, world.session, organisation=owner)
    return {"client_pk": str(issued.client.id)}


# --- payloads --------------------------------------------------------------------------------


async def reason(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"reason": "authorisation matrix"}


async def new_member(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"email": f"{unique('invitee')}@example.cn", "name": "Invitee"}


async def new_user_anywhere(world: World, _actor: Actor) -> dict[str, Any]:
    organisation = world.org(OrganisationKind.enterprise, "B")
    return {
        "organisation_id": str(organisation.id),
        "email": f"{unique('created')}@example.cn",
        "name": "Created",
        "role": "member",
    }


async def new_organisation(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"kind": "provider", "name": unique("Provider "), "credit_code": make_credit_code()}


async def registration(_world: World, _actor: Actor) -> dict[str, Any]:
    return {
        "organisation": {"name": unique("Startup "), "credit_code": make_credit_code()},
        "owner": {
            "email": f"{unique('founder')}@example.cn",
            "name": "F",
            "password": DEFAULT_PASSWORD,
        },
    }


async def own_password_change(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}


async def login_form(world: World, _actor: Actor) -> dict[str, Any]:
    user = await create_user(world.session)
    return {"username": user.email, "password": DEFAULT_PASSWORD}


async def refresh_token(world: World, _actor: Actor) -> dict[str, Any]:
    user = await create_user(world.session)
    grant = await sessions.start_session(world.session, user.id, world.app.state.settings)
    await world.session.commit()
    return {"refresh_token": grant.refresh_token}


async def password_token(world: World, _actor: Actor) -> dict[str, Any]:
    user = await create_user(world.session, password=None)
    issued = await users.issue_password_token(
        world.session,
        world.app.state.settings,
        user,
        purpose=PasswordTokenPurpose.invitation,
        actor=None,
    )
    await world.session.commit()
    return {"token": issued.token, "new_password": NEW_PASSWORD}


async def client_credentials(world: World, _actor: Actor) -> dict[str, Any]:
    issued = await create_provider_client(world.app, world.session)
    return {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.client_secret,
    }


# --- the matrix ------------------------------------------------------------------------------

AUTHORITY = tuple(
    sorted(
        ROLE
        for ROLE in Role
        if ROLE in {Role.program_admin, Role.reviewer, Role.finance, Role.auditor, Role.sysadmin}
    )
)
CONFLICT_TOO = frozenset({200, 409})

IDENTITY_ROUTES: list[RouteCase] = [
    # Public documents and probes.
    RouteCase("GET", "/openapi.json", rules.anyone),
    RouteCase("GET", "/docs", rules.anyone),
    RouteCase("GET", "/docs/oauth2-redirect", rules.anyone),
    RouteCase("GET", "/redoc", rules.anyone),
    RouteCase("MOUNT", "/static-offline-docs", rules.anyone),
    RouteCase("GET", "/healthz", rules.anyone),
    RouteCase("GET", "/readyz", rules.anyone),
    RouteCase("GET", "/.well-known/jwks.json", rules.anyone),
    # Prometheus scrapes without credentials; keep /metrics on the monitoring network.
    RouteCase("GET", "/metrics", rules.anyone),
    # The portal's public shell.
    RouteCase("GET", "/portal/", rules.anyone),
    RouteCase(
        "GET",
        "/portal/lang/{language}",
        rules.anyone,
        params={"language": "en"},
        ok=frozenset({303}),
    ),
    RouteCase("MOUNT", "/portal/static", rules.anyone, asset="portal.css"),
    # Authentication.
    RouteCase("POST", "/v1/auth/token", rules.anyone, form=login_form),
    RouteCase("POST", "/v1/auth/refresh", rules.anyone, json=refresh_token),
    RouteCase("POST", "/v1/auth/password-token", rules.anyone, json=password_token),
    RouteCase("POST", "/v1/auth/register", rules.anyone, json=registration),
    RouteCase("POST", "/v1/oauth/token", rules.anyone, form=client_credentials),
    RouteCase("POST", "/v1/auth/logout", rules.any_user),
    RouteCase("POST", "/v1/auth/password", rules.any_user, json=own_password_change),
    # Oneself and one's own organisation.
    RouteCase("GET", "/v1/users/me", rules.any_user),
    RouteCase("GET", "/v1/organisations/me", rules.any_principal),
    RouteCase(
        "PATCH",
        "/v1/organisations/me",
        rules.roles(Role.owner, Role.operator),
        json=constant({"industry": "I65"}),
    ),
    RouteCase("GET", "/v1/organisations/me/members", rules.roles(Role.owner)),
    RouteCase("POST", "/v1/organisations/me/members", rules.roles(Role.owner), json=new_member),
    RouteCase(
        "POST",
        "/v1/organisations/me/members/{user_id}/suspend",
        rules.roles_on_own(Role.owner),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        json=reason,
    ),
    RouteCase(
        "POST",
        "/v1/organisations/me/members/{user_id}/reactivate",
        rules.roles_on_own(Role.owner),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
    # The system administrator's user administration (auditors read).
    RouteCase("GET", "/v1/admin/users", rules.roles(Role.sysadmin, Role.auditor)),
    RouteCase("POST", "/v1/admin/users", rules.roles(Role.sysadmin), json=new_user_anywhere),
    RouteCase(
        "GET",
        "/v1/admin/users/{user_id}",
        rules.roles(Role.sysadmin, Role.auditor),
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/suspend",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        json=reason,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/reactivate",
        rules.roles(Role.sysadmin),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/password-reset",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    # The authority's organisation administration.
    RouteCase("GET", "/v1/admin/organisations", rules.roles(*AUTHORITY)),
    RouteCase(
        "POST",
        "/v1/admin/organisations",
        rules.roles(Role.program_admin, Role.sysadmin),
        json=new_organisation,
    ),
    RouteCase(
        "GET",
        "/v1/admin/organisations/{organisation_id}",
        rules.roles(*AUTHORITY),
        target=the_organisation,
        target_kinds=ALL_KINDS,
    ),
    # The authority itself cannot be suspended (409): still "allowed" for a program admin.
    RouteCase(
        "POST",
        "/v1/admin/organisations/{organisation_id}/suspend",
        rules.roles(Role.program_admin),
        target=active_organisation,
        target_kinds=ALL_KINDS,
        json=reason,
        ok=CONFLICT_TOO,
    ),
    RouteCase(
        "POST",
        "/v1/admin/organisations/{organisation_id}/reactivate",
        rules.roles(Role.program_admin),
        target=suspended_organisation,
        target_kinds=ALL_KINDS,
        json=reason,
        ok=CONFLICT_TOO,
    ),
    # Provider API credentials: a provider's operators, on their own provider's credentials.
    RouteCase("GET", "/v1/provider/api-clients", rules.roles(Role.operator)),
    RouteCase(
        "POST", "/v1/provider/api-clients", rules.roles(Role.operator), json=constant({"name": "m"})
    ),
    RouteCase(
        "GET",
        "/v1/provider/api-clients/{client_pk}",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
    ),
    RouteCase(
        "POST",
        "/v1/provider/api-clients/{client_pk}/rotate",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
        json=constant({}),
    ),
    RouteCase(
        "POST",
        "/v1/provider/api-clients/{client_pk}/revoke",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
    ),
    RouteCase("GET", "/v1/provider/me", rules.provider_client),
    # The audit trail.
    RouteCase("GET", "/v1/admin/audit-events", rules.roles(Role.auditor, Role.sysadmin)),
    RouteCase("GET", "/v1/admin/audit-events/export", rules.roles(Role.auditor, Role.sysadmin)),
    RouteCase("GET", "/v1/admin/audit-events/verify", rules.roles(Role.auditor, Role.sysadmin)),
]

#: Every route of the application. Later issues append their own lists here.
ROUTES: list[RouteCase] = [*IDENTITY_ROUTES, *WEBHOOK_ROUTES]
