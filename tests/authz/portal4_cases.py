"""Authorisation cases of the authority's administration pages: programme set-up and funding,
the provider registry, vouchers and exports. Each page has the rule of the API route whose
service it calls (tried as a browser, like ``portal_cases``)."""

from __future__ import annotations

import uuid
from typing import Any

from providers.registry.models import CatalogueItem, ProviderState
from tests.authz import rules
from tests.authz.case import constant
from tests.authz.portal_cases import form, page
from tests.authz.reconciliation_cases import a_report
from tests.authz.settlement_cases import draft as draft_settlement
from tests.authz.world import Actor, World, unique
from tests.factories import make_credit_code
from tests.programs.factories import (
    create_program,
    create_provider,
    create_voucher,
    program_values,
)
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.portal.programme_form import form_of
from voucher_service.programs.models import Program, ProgramStatus
from voucher_service.users.models import ROLES_BY_KIND, Role
from voucher_service.vouchers.models import Voucher

ANY_ORG = (OrganisationKind.authority,)  # the target's owner does not matter: one attempt
PROVIDERS = (OrganisationKind.provider,)
AUTHORITY_PEOPLE = rules.roles(*sorted(ROLES_BY_KIND[OrganisationKind.authority]))
PROGRAM_ADMIN = rules.roles(Role.program_admin)
FINANCE = rules.roles(Role.finance)
READERS = rules.roles(Role.finance, Role.program_admin, Role.auditor, Role.sysadmin)
CONFIRMED = constant({"reason": "核实后处理", "confirm": "yes"})


# --- vouchers ---------------------------------------------------------------------------------


def a_voucher(state: str) -> Any:
    async def target(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
        voucher = await create_voucher(world.session, amount=1_000_00)
        if state != "active":
            found = await world.session.get(Voucher, voucher.id)
            assert found is not None
            found.state = state
            await world.session.commit()
        return {"voucher_id": str(voucher.id)}

    return target


def on_voucher(suffix: str, state: str = "active") -> Any:
    path = f"/portal/authority/vouchers/{{voucher_id}}/{suffix}"
    return form(path, PROGRAM_ADMIN, target=a_voucher(state), target_kinds=ANY_ORG, form=CONFIRMED)


VOUCHER_ROUTES = [
    page("/portal/authority/vouchers", AUTHORITY_PEOPLE),
    page(
        "/portal/authority/vouchers/{voucher_id}",
        AUTHORITY_PEOPLE,
        target=a_voucher("active"),
        target_kinds=ANY_ORG,
    ),
    on_voucher("freeze"),
    on_voucher("unfreeze", "frozen"),
    on_voucher("revoke"),
]


# --- providers ---------------------------------------------------------------------------------


def a_provider(state: ProviderState) -> Any:
    """A provider of the actor's attempt (any organisation's: the authority acts by function)."""

    async def target(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
        provider = await create_provider(world.session, state=state)
        item = CatalogueItem(provider_id=provider.id, resource=unique("gpu_"), unit="hour")
        world.session.add(item)
        await world.session.commit()
        return {"provider_id": str(provider.id), "item_id": str(item.id)}

    return target


def on_provider(method: str, suffix: str, allow: rules.Rule, **kwargs: Any) -> Any:
    build = page if method == "GET" else form
    kwargs.setdefault("target", a_provider(ProviderState.approved))
    return build(
        f"/portal/authority/providers/{{provider_id}}{suffix}",
        allow,
        target_kinds=ANY_ORG,
        **kwargs,
    )


async def provider_registration(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"name": unique("Compute Co "), "credit_code": make_credit_code(), "services": "compute"}


async def catalogue_item(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"resource": unique("npu_"), "unit": "hour", "list_price": "25.00"}


PROVIDER_ROUTES = [
    page("/portal/authority/providers", AUTHORITY_PEOPLE),
    form("/portal/authority/providers", PROGRAM_ADMIN, form=provider_registration),
    on_provider("GET", "", AUTHORITY_PEOPLE),
    on_provider(
        "POST",
        "/details",
        PROGRAM_ADMIN,
        form=constant({"services": ["compute", "model"], "filing_number": "沪网信算备-0002"}),
    ),
    on_provider(
        "POST",
        "/publicity",
        PROGRAM_ADMIN,
        target=a_provider(ProviderState.proposed),
        form=constant({"days": "7"}),
    ),
    on_provider("POST", "/approve", PROGRAM_ADMIN, target=a_provider(ProviderState.publicity)),
    on_provider("POST", "/suspend", PROGRAM_ADMIN, form=CONFIRMED),
    on_provider(
        "POST",
        "/reinstate",
        PROGRAM_ADMIN,
        target=a_provider(ProviderState.suspended),
        form=CONFIRMED,
    ),
    on_provider("POST", "/catalogue", PROGRAM_ADMIN, form=catalogue_item),
    on_provider("GET", "/catalogue/{item_id}", AUTHORITY_PEOPLE),
    on_provider(
        "POST",
        "/catalogue/{item_id}",
        PROGRAM_ADMIN,
        form=constant({"description": "H800", "list_price": "30", "active": "true"}),
    ),
    on_provider("POST", "/catalogue/{item_id}/withdraw", PROGRAM_ADMIN),
]


# --- programmes --------------------------------------------------------------------------------


def a_programme(status: ProgramStatus, *, with_provider: bool = False) -> Any:
    async def target(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
        provider = await create_provider(world.session)
        program = await create_program(
            world.session, status=status, providers=[provider] if with_provider else []
        )
        world.extras["rules_form"] = form_of(program).values
        world.extras["spare_provider"] = str(provider.id)
        return {"program_id": str(program.id), "provider_id": str(provider.id)}

    return target


async def rules_of_target(world: World, _actor: Actor) -> dict[str, Any]:
    return {**world.extras["rules_form"], "description": "改过的说明"}


async def new_programme(_world: World, _actor: Actor) -> dict[str, Any]:
    values = form_of(Program(**program_values())).values
    return {**values, "name": unique("算力券 ")}


async def spare_provider(world: World, _actor: Actor) -> dict[str, Any]:
    return {"provider_id": world.extras["spare_provider"]}


async def funding(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"amount": "1000.00", "funding_key": uuid.uuid4().hex, "note": "第一批"}


def on_programme(suffix: str, allow: rules.Rule, target: Any, **kwargs: Any) -> Any:
    path = f"/portal/authority/programmes/{{program_id}}{suffix}"
    return form(path, allow, target=target, target_kinds=ANY_ORG, **kwargs)


DRAFT = a_programme(ProgramStatus.draft)
PROGRAMME_ROUTES = [
    page("/portal/authority/programme-setup", PROGRAM_ADMIN),
    form("/portal/authority/programme-setup", PROGRAM_ADMIN, form=new_programme),
    page(
        "/portal/authority/programmes/{program_id}/setup",
        AUTHORITY_PEOPLE,
        target=DRAFT,
        target_kinds=ANY_ORG,
    ),
    on_programme("/setup", PROGRAM_ADMIN, DRAFT, form=rules_of_target),
    on_programme("/open", PROGRAM_ADMIN, a_programme(ProgramStatus.draft, with_provider=True)),
    on_programme("/close", PROGRAM_ADMIN, a_programme(ProgramStatus.open)),
    on_programme("/archive", PROGRAM_ADMIN, a_programme(ProgramStatus.closed)),
    on_programme("/fund", FINANCE, DRAFT, form=funding),
    on_programme("/providers", PROGRAM_ADMIN, DRAFT, form=spare_provider),
    on_programme(
        "/providers/{provider_id}/remove",
        PROGRAM_ADMIN,
        a_programme(ProgramStatus.draft, with_provider=True),
    ),
    on_programme(
        "/price-ceilings",
        PROGRAM_ADMIN,
        DRAFT,
        form=constant({"resource": "gpu_hour", "unit": "hour", "max_unit_price": "25"}),
    ),
]


# --- exports -------------------------------------------------------------------------------------


async def a_report_of_a_programme(
    world: World, owner: Organisation, actor: Actor
) -> dict[str, str]:
    ids = await a_programme(ProgramStatus.open)(world, owner, actor)
    return {"program_id": ids["program_id"], "report": "burn-down"}


EXPORT_ROUTES = [
    page("/portal/authority/exports", READERS),
    page(
        "/portal/authority/exports/settlements/{settlement_id}",
        READERS,
        target=draft_settlement,
        target_kinds=PROVIDERS,
    ),
    page(
        "/portal/authority/exports/reconciliations/{reconciliation_id}",
        READERS,
        target=a_report,
        target_kinds=PROVIDERS,
    ),
    page(
        "/portal/authority/exports/programmes/{program_id}/redemption-list",
        READERS,
        target=a_programme(ProgramStatus.open),
        target_kinds=ANY_ORG,
    ),
    page(
        "/portal/authority/exports/programmes/{program_id}/{report}",
        READERS,
        target=a_report_of_a_programme,
        target_kinds=ANY_ORG,
    ),
]

PORTAL4_ROUTES = [*VOUCHER_ROUTES, *PROVIDER_ROUTES, *PROGRAMME_ROUTES, *EXPORT_ROUTES]
