"""Authorisation cases of settlements and ledger health.

Authority routes act by function on any payee's settlement; provider routes only on the caller's
own provider's settlements (another provider's is "not found"). Each attempt gets a settlement
of its own in the state the route needs, so one attempt never spoils the next.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

import ledger
from ledger.sqltypes import utcnow
from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.world import Actor, World
from tests.programs.factories import create_provider, create_voucher
from tests.settlements.factories import capture
from voucher_service.exports.columns import SHANGHAI
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program
from voucher_service.settlements import service
from voucher_service.settlements.models import PayeeKind, Settlement, SettlementStatus
from voucher_service.users.models import Role

PROVIDERS = (OrganisationKind.provider,)
READERS = rules.roles(Role.finance, Role.program_admin, Role.auditor, Role.sysadmin)
LEDGER_READERS = READERS
FINANCE = rules.roles(Role.finance)


async def _program_for(world: World, owner: Organisation) -> Program:
    key = f"settlement-program:{owner.id}"
    if key not in world.extras:
        await create_provider(world.session, organisation=owner)
        voucher = await create_voucher(world.session, amount=1_000_000_00, provider=owner)
        world.extras[key] = (await world.session.get(Program, voucher.program_id), voucher)
        await world.session.commit()  # end the read: SQLite writers must not wait for it
    return world.extras[key][0]  # type: ignore[no-any-return]


async def _settlement(world: World, owner: Organisation, state: str) -> Settlement:
    program = await _program_for(world, owner)
    voucher = world.extras[f"settlement-program:{owner.id}"][1]
    await capture(world.session, voucher, owner.id, 1_00)
    today = utcnow().astimezone(SHANGHAI).date()
    [settlement] = await service.generate(
        world.session, program, (today - timedelta(days=1), today), payee_id=owner.id
    )
    now = utcnow()
    values: dict[str, object] = {}
    if state in ("approved", "confirmed"):
        values = {"status": SettlementStatus.approved, "respond_by": now + timedelta(days=5)}
    if state == "confirmed":
        values["confirmed_at"] = now
    if state == "disputed":
        values = {"status": SettlementStatus.disputed, "disputed_at": now, "dispute_reason": "no"}
    if values:
        await world.session.execute(
            sa.update(Settlement).where(Settlement.id == settlement.id).values(**values)  # type: ignore[arg-type]
        )
    await world.session.commit()
    return settlement


def _factory(state: str):  # type: ignore[no-untyped-def]
    async def target(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
        settlement = await _settlement(world, owner, state)
        return {"settlement_id": str(settlement.id)}

    return target


async def a_payable_account(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    spec = ledger.chart.provider_payable(owner.id)
    accounts = await ledger.open_accounts(world.session, [spec])
    await world.session.commit()
    return {"account_id": str(accounts[spec.code].id)}


async def generation(world: World, _actor: Actor) -> dict[str, str]:
    program = await _program_for(world, world.org(OrganisationKind.provider, "B"))
    today = utcnow().astimezone(SHANGHAI).date()
    return {
        "program_id": str(program.id),
        "period_start_on": str(today - timedelta(days=1)),
        "period_end_on": str(today),
    }


async def an_enterprise_settlement(
    world: World, owner: Organisation, _actor: Actor
) -> dict[str, str]:
    """An issued reimbursement settlement of ``owner`` (an enterprise), written as it stands."""
    program = await _program_for(world, world.org(OrganisationKind.provider, "B"))
    today = utcnow().astimezone(SHANGHAI).date()
    settlement = Settlement(
        program_id=program.id,
        payee_kind=PayeeKind.enterprise,
        payee_id=owner.id,
        period_start_on=today,
        period_end_on=today,
        status=SettlementStatus.approved,
        item_count=0,
    )
    world.session.add(settlement)
    await world.session.commit()
    return {"settlement_id": str(settlement.id)}


draft, approved, confirmed = _factory("draft"), _factory("approved"), _factory("confirmed")
disputed = _factory("disputed")
ONE = "/v1/admin/settlements/{settlement_id}"
MINE = "/v1/provider/settlements/{settlement_id}"
HELD = "/v1/settlements/{settlement_id}"
ENTERPRISE_PEOPLE = (Role.owner, Role.member)

SETTLEMENT_ROUTES: list[RouteCase] = [
    RouteCase(
        "POST",
        "/v1/admin/settlements",
        rules.roles(Role.finance, Role.program_admin),
        json=generation,
        ok=frozenset({201}),
    ),
    RouteCase("GET", "/v1/admin/settlements", READERS),
    RouteCase("GET", ONE, READERS, target=draft, target_kinds=PROVIDERS),
    RouteCase("GET", ONE + "/items", READERS, target=draft, target_kinds=PROVIDERS),
    RouteCase("GET", ONE + "/export", READERS, target=draft, target_kinds=PROVIDERS),
    RouteCase("POST", ONE + "/approve", FINANCE, target=draft, target_kinds=PROVIDERS),
    RouteCase(
        "POST",
        ONE + "/cancel",
        FINANCE,
        target=draft,
        target_kinds=PROVIDERS,
        json=constant({"comment": "generated for the wrong period"}),
    ),
    RouteCase(
        "POST",
        ONE + "/pay",
        FINANCE,
        target=confirmed,
        target_kinds=PROVIDERS,
        json=constant({"bank_reference": "BANK-1"}),
    ),
    RouteCase(
        "POST",
        ONE + "/resolve",
        FINANCE,
        target=disputed,
        target_kinds=PROVIDERS,
        json=constant({"resolution": "cancel", "comment": "items to be corrected"}),
    ),
    RouteCase("GET", "/v1/settlements", rules.roles(*ENTERPRISE_PEOPLE)),
    RouteCase(
        "GET",
        HELD,
        rules.roles_on_own(*ENTERPRISE_PEOPLE),
        target=an_enterprise_settlement,
        target_kinds=(OrganisationKind.enterprise,),
    ),
    RouteCase(
        "GET",
        HELD + "/items",
        rules.roles_on_own(*ENTERPRISE_PEOPLE),
        target=an_enterprise_settlement,
        target_kinds=(OrganisationKind.enterprise,),
    ),
    RouteCase("GET", "/v1/provider/settlements", rules.provider_manager),
    RouteCase("GET", MINE, rules.provider_manager_on_own, target=approved, target_kinds=PROVIDERS),
    RouteCase(
        "GET",
        MINE + "/items",
        rules.provider_manager_on_own,
        target=approved,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        MINE + "/confirm",
        rules.provider_manager_on_own,
        target=approved,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        MINE + "/dispute",
        rules.provider_manager_on_own,
        target=approved,
        target_kinds=PROVIDERS,
        json=constant({"reason": "amounts differ"}),
    ),
    # Ledger health.
    RouteCase("GET", "/v1/admin/ledger/trial-balance", LEDGER_READERS),
    RouteCase("GET", "/v1/admin/ledger/health", LEDGER_READERS),
    RouteCase(
        "POST", "/v1/admin/ledger/verify", rules.roles(Role.finance, Role.auditor, Role.sysadmin)
    ),
    RouteCase("GET", "/v1/admin/ledger/accounts", LEDGER_READERS),
    RouteCase(
        "GET",
        "/v1/admin/ledger/accounts/{account_id}/statement",
        LEDGER_READERS,
        target=a_payable_account,
        target_kinds=PROVIDERS,
    ),
]
