"""Authorisation cases of the provider registry, programme and voucher routes.

Authority routes act by function (any organisation's object); the holder's voucher routes act on
the caller's own enterprise, so an owner of enterprise A is tried on vouchers of A and of B (B's
are "not found"). State changes get a fresh object in the state they need for every attempt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.sqltypes import utcnow
from providers.registry.models import CatalogueItem, ProviderProfile, ProviderState
from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.world import Actor, World, unique
from tests.factories import make_credit_code
from tests.programs.factories import (
    create_program,
    create_provider,
    create_voucher,
    program_values,
)
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import ProgramProvider, ProgramStatus
from voucher_service.users.models import Role
from voucher_service.vouchers.models import VoucherState

AUTHORITY = rules.roles(
    Role.program_admin, Role.reviewer, Role.finance, Role.auditor, Role.sysadmin
)
ADMIN = rules.roles(Role.program_admin)
FINANCE = rules.roles(Role.finance)
HOLDERS = rules.roles_on_own(Role.owner, Role.member)
OWNERS = rules.roles_on_own(Role.owner)
PROVIDERS = (OrganisationKind.provider,)
ENTERPRISES = (OrganisationKind.enterprise,)
ANY = (OrganisationKind.authority,)  # one kind: the object is not owned, two attempts suffice
CONFLICT_TOO = frozenset({200, 201, 409})
REASON = constant({"reason": "authorisation matrix"})

# --- providers ---------------------------------------------------------------------------------


async def _fresh_provider(world: World, state: ProviderState) -> Organisation:
    provider = await create_provider(world.session, state=state)
    if state == ProviderState.publicity:
        profile = await world.session.get(ProviderProfile, provider.id)
        assert profile is not None
        profile.publicity_until = utcnow() - timedelta(minutes=1)
        await world.session.commit()
    return provider


async def registered(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    """The owner provider, with a profile (made once)."""
    if await world.session.get(ProviderProfile, owner.id) is None:
        await create_provider(world.session, organisation=owner)
    await world.session.commit()  # end the read: on SQLite it holds the write lock
    return {"provider_id": str(owner.id)}


def provider_in(state: ProviderState) -> Any:
    async def target(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
        return {"provider_id": str((await _fresh_provider(world, state)).id)}

    return target


async def catalogue_item(world: World, owner: Organisation, actor: Actor) -> dict[str, str]:
    params = await registered(world, owner, actor)
    item = CatalogueItem(provider_id=owner.id, resource=unique("res_"), unit="hour")
    world.session.add(item)
    await world.session.commit()
    return params | {"item_id": str(item.id)}


async def new_provider(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"name": unique("Cloud "), "credit_code": make_credit_code(), "services": ["compute"]}


async def new_item(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"resource": unique("gpu_"), "unit": "hour", "description": "card-hour"}


PROVIDER_ROUTES: list[RouteCase] = [
    RouteCase("GET", "/v1/providers", rules.anyone),
    RouteCase("GET", "/v1/admin/providers", AUTHORITY),
    RouteCase("POST", "/v1/admin/providers", ADMIN, json=new_provider),
    RouteCase("GET", "/v1/admin/providers/{provider_id}", AUTHORITY, registered, PROVIDERS),
    RouteCase(
        "PATCH",
        "/v1/admin/providers/{provider_id}",
        ADMIN,
        registered,
        PROVIDERS,
        json=constant({"filing_number": "Beijing-WangXinSuan-0002"}),
    ),
    RouteCase(
        "POST",
        "/v1/admin/providers/{provider_id}/publicity",
        ADMIN,
        provider_in(ProviderState.proposed),
        ANY,
        json=constant({"days": 0}),
    ),
    RouteCase(
        "POST",
        "/v1/admin/providers/{provider_id}/approve",
        ADMIN,
        provider_in(ProviderState.publicity),
        ANY,
    ),
    RouteCase(
        "POST",
        "/v1/admin/providers/{provider_id}/suspend",
        ADMIN,
        provider_in(ProviderState.approved),
        ANY,
        json=REASON,
    ),
    RouteCase(
        "POST",
        "/v1/admin/providers/{provider_id}/reinstate",
        ADMIN,
        provider_in(ProviderState.suspended),
        ANY,
        json=REASON,
    ),
    RouteCase(
        "GET", "/v1/admin/providers/{provider_id}/catalogue", AUTHORITY, registered, PROVIDERS
    ),
    RouteCase(
        "POST",
        "/v1/admin/providers/{provider_id}/catalogue",
        ADMIN,
        registered,
        PROVIDERS,
        json=new_item,
    ),
    RouteCase(
        "PATCH",
        "/v1/admin/providers/{provider_id}/catalogue/{item_id}",
        ADMIN,
        catalogue_item,
        PROVIDERS,
        json=constant({"description": "changed"}),
    ),
    RouteCase(
        "DELETE",
        "/v1/admin/providers/{provider_id}/catalogue/{item_id}",
        ADMIN,
        catalogue_item,
        PROVIDERS,
    ),
]

# --- programmes --------------------------------------------------------------------------------


async def _shared_provider(world: World) -> Organisation:
    if "provider" not in world.extras:
        world.extras["provider"] = await create_provider(world.session)
    provider: Organisation = world.extras["provider"]
    return provider


def program_in(status: ProgramStatus, **extra: Any) -> Any:
    async def target(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
        provider = await _shared_provider(world)
        program = await create_program(world.session, status=status, providers=[provider], **extra)
        return {"program_id": str(program.id), "provider_id": str(provider.id)}

    return target


async def new_program(_world: World, _actor: Actor) -> dict[str, Any]:
    values = program_values()
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in values.items()
    }


async def funding(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"amount": 1_000_00, "client_reference": unique("fund-")}


async def listing(world: World, _actor: Actor) -> dict[str, Any]:
    return {"provider_id": str((await _shared_provider(world)).id)}


PROGRAM = "/v1/admin/programs/{program_id}"
OPEN = ProgramStatus.open
PROGRAM_ROUTES: list[RouteCase] = [
    RouteCase("GET", "/v1/programs", rules.anyone),
    RouteCase(
        "GET", "/v1/programs/{program_id}", rules.anyone, program_in(ProgramStatus.open), ANY
    ),
    RouteCase("GET", "/v1/admin/programs", AUTHORITY),
    RouteCase("POST", "/v1/admin/programs", ADMIN, json=new_program),
    RouteCase("GET", PROGRAM, AUTHORITY, program_in(ProgramStatus.open), ANY),
    RouteCase(
        "PATCH",
        PROGRAM,
        ADMIN,
        program_in(ProgramStatus.draft),
        ANY,
        json=constant({"description": "changed"}),
    ),
    RouteCase(
        "POST", PROGRAM + "/fund", FINANCE, program_in(ProgramStatus.open), ANY, json=funding
    ),
    RouteCase("POST", PROGRAM + "/open", ADMIN, program_in(ProgramStatus.draft), ANY),
    RouteCase("POST", PROGRAM + "/close", ADMIN, program_in(ProgramStatus.open), ANY),
    RouteCase("POST", PROGRAM + "/archive", ADMIN, program_in(ProgramStatus.closed), ANY),
    RouteCase("GET", PROGRAM + "/figures", AUTHORITY, program_in(ProgramStatus.open), ANY),
    RouteCase("GET", PROGRAM + "/providers", AUTHORITY, program_in(ProgramStatus.open), ANY),
    RouteCase(
        "POST",
        PROGRAM + "/providers",
        ADMIN,
        program_in(ProgramStatus.draft),
        ANY,
        json=listing,
    ),
    RouteCase(
        "DELETE",
        PROGRAM + "/providers/{provider_id}",
        ADMIN,
        program_in(ProgramStatus.draft),
        ANY,
    ),
    RouteCase("GET", PROGRAM + "/price-ceilings", AUTHORITY, program_in(ProgramStatus.open), ANY),
    RouteCase(
        "PUT",
        PROGRAM + "/price-ceilings",
        ADMIN,
        program_in(ProgramStatus.open),
        ANY,
        json=constant({"resource": "gpu_hour", "unit": "hour", "max_unit_price_amount": 25_00}),
    ),
]

# --- vouchers ----------------------------------------------------------------------------------


def voucher_in(state: VoucherState = VoucherState.active) -> Any:
    async def target(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
        provider = await _shared_provider(world)
        voucher = await create_voucher(
            world.session,
            amount=1_000_00,
            holder=owner,
            provider=provider,
            allow_holder_providers=True,
        )
        if state != VoucherState.active:
            voucher.state = state
            world.session.add(voucher)
            await world.session.commit()
        world.extras["voucher_program"] = voucher.program_id
        return {"voucher_id": str(voucher.id), "provider_id": str(provider.id)}

    return target


async def another_provider(world: World, _actor: Actor) -> dict[str, Any]:
    """An approved provider on the list of the last voucher's programme."""
    provider = await create_provider(world.session)
    world.session.add(
        ProgramProvider(program_id=world.extras["voucher_program"], provider_id=provider.id)
    )
    await world.session.commit()
    return {"provider_id": str(provider.id)}


VOUCHER = "/v1/vouchers/{voucher_id}"
ADMIN_VOUCHER = "/v1/admin/vouchers/{voucher_id}"
VOUCHER_ROUTES: list[RouteCase] = [
    RouteCase("GET", "/v1/vouchers", rules.roles(Role.owner, Role.member)),
    RouteCase("GET", VOUCHER, HOLDERS, voucher_in(), ENTERPRISES),
    RouteCase("GET", VOUCHER + "/transactions", HOLDERS, voucher_in(), ENTERPRISES),
    RouteCase(
        "POST", VOUCHER + "/providers", OWNERS, voucher_in(), ENTERPRISES, json=another_provider
    ),
    RouteCase("DELETE", VOUCHER + "/providers/{provider_id}", OWNERS, voucher_in(), ENTERPRISES),
    RouteCase("GET", "/v1/admin/vouchers", AUTHORITY),
    RouteCase("GET", ADMIN_VOUCHER, AUTHORITY, voucher_in(), ENTERPRISES),
    RouteCase("POST", ADMIN_VOUCHER + "/freeze", ADMIN, voucher_in(), ENTERPRISES, json=REASON),
    RouteCase(
        "POST",
        ADMIN_VOUCHER + "/unfreeze",
        ADMIN,
        voucher_in(VoucherState.frozen),
        ENTERPRISES,
        json=REASON,
    ),
    RouteCase("POST", ADMIN_VOUCHER + "/revoke", ADMIN, voucher_in(), ENTERPRISES, json=REASON),
]

PROGRAMME_ROUTES: list[RouteCase] = [*PROVIDER_ROUTES, *PROGRAM_ROUTES, *VOUCHER_ROUTES]
