"""Objects and request bodies the authorisation matrix tries routes with (API and portal)."""

from __future__ import annotations

from typing import Any

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
