"""Authorisation cases of the provider redemption API and the holder's voucher history.

A provider's API client is tried against vouchers and redemptions of provider A (its own) and B:
B's are "not found", so no provider can read, redeem, capture, void or refund another's. People
(even the provider's operators) are refused: these routes are for API clients with scopes.
"""

from __future__ import annotations

import uuid
from typing import Any

from providers.registry.models import ProviderProfile
from tests.authz import rules
from tests.authz.case import RouteCase
from tests.authz.world import Actor, World
from tests.programs.factories import create_provider, create_voucher
from tests.redemptions.factories import redemption_body
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.redemptions import service
from voucher_service.redemptions.schemas import RedemptionCreate
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher

PROVIDERS = (OrganisationKind.provider,)
ENTERPRISES = (OrganisationKind.enterprise,)


def client_on_own(actor: Actor, owner: Organisation | None) -> bool:
    """A provider's API client, on its own provider's vouchers and redemptions only."""
    return actor.is_client and owner is not None and actor.organisation == owner


async def approved(world: World, provider: Organisation) -> Organisation:
    """Give the world's provider a registry profile (approved, selling compute), once."""
    key = f"profile:{provider.id}"
    if key not in world.extras:
        if await world.session.get(ProviderProfile, provider.id) is None:
            await create_provider(world.session, organisation=provider)
        world.extras[key] = True
    return provider


async def bound_voucher(world: World, provider: Organisation) -> Voucher:
    """A fresh voucher that ``provider`` may redeem."""
    return await create_voucher(
        world.session, amount=1_000_000, provider=await approved(world, provider)
    )


async def voucher_of_provider(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    voucher = await bound_voucher(world, owner)
    world.extras["voucher_code"] = voucher.code
    return {"code": voucher.code}


async def redemption_of(world: World, owner: Organisation, *, capture: bool) -> dict[str, str]:
    voucher = await bound_voucher(world, owner)
    request = RedemptionCreate.model_validate(redemption_body(voucher, capture=capture))
    answer = await service.redeem(
        world.session, world.app.state.keyring, owner.id, request, actor=None
    )
    await world.session.commit()
    return {"redemption_id": str(answer.redemption.id)}


async def authorised(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    return await redemption_of(world, owner, capture=False)


async def captured(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    return await redemption_of(world, owner, capture=True)


async def held_voucher(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    provider = world.org(OrganisationKind.provider, "B")
    voucher = await create_voucher(
        world.session, amount=1_000_000, holder=owner, provider=await approved(world, provider)
    )
    return {"voucher_id": str(voucher.id)}


async def that_voucher_redeemed(world: World, _actor: Actor) -> dict[str, Any]:
    """A redemption of the voucher the target factory made (its code is all the body needs)."""
    return redemption_body(Voucher.model_construct(code=world.extras["voucher_code"]))


async def a_key(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def a_refund(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"amount": 100, "reason": "matrix"}


REDEMPTION_ROUTES: list[RouteCase] = [
    RouteCase(
        "GET",
        "/v1/provider/vouchers/{code}",
        client_on_own,
        target=voucher_of_provider,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        "/v1/provider/redemptions",
        client_on_own,
        target=voucher_of_provider,
        target_kinds=PROVIDERS,
        json=that_voucher_redeemed,
        headers=a_key,
    ),
    RouteCase("GET", "/v1/provider/redemptions", rules.provider_client),
    RouteCase(
        "GET",
        "/v1/provider/redemptions/{redemption_id}",
        client_on_own,
        target=captured,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        "/v1/provider/redemptions/{redemption_id}/capture",
        client_on_own,
        target=authorised,
        target_kinds=PROVIDERS,
        headers=a_key,
    ),
    RouteCase(
        "POST",
        "/v1/provider/redemptions/{redemption_id}/void",
        client_on_own,
        target=authorised,
        target_kinds=PROVIDERS,
        headers=a_key,
    ),
    RouteCase(
        "POST",
        "/v1/provider/redemptions/{redemption_id}/refunds",
        client_on_own,
        target=captured,
        target_kinds=PROVIDERS,
        json=a_refund,
        headers=a_key,
    ),
    RouteCase(
        "GET",
        "/v1/vouchers/{voucher_id}/redemptions",
        rules.roles_on_own(Role.owner, Role.member),
        target=held_voucher,
        target_kinds=ENTERPRISES,
    ),
]
