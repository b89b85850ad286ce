"""Authorisation cases of the reports (authority readers) and the open-data awards (public)."""

from __future__ import annotations

from tests.authz import rules
from tests.authz.case import RouteCase
from tests.authz.world import Actor, World
from tests.programs.factories import create_program
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role

READERS = rules.roles(Role.program_admin, Role.finance, Role.auditor, Role.sysadmin)
BASE = "/v1/admin/reports/programs/{program_id}"


async def a_program(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
    if "report-program" not in world.extras:
        program = await create_program(world.session)
        world.extras["report-program"] = str(program.id)
        await world.session.commit()
    return {"program_id": world.extras["report-program"]}


AUTHORITY = (OrganisationKind.authority,)

REPORT_ROUTES: list[RouteCase] = [
    RouteCase("GET", BASE + "/summary", READERS, target=a_program, target_kinds=AUTHORITY),
    RouteCase("GET", BASE + "/redemptions", READERS, target=a_program, target_kinds=AUTHORITY),
    RouteCase("GET", BASE + "/redemption-list", READERS, target=a_program, target_kinds=AUTHORITY),
    RouteCase("GET", BASE + "/top-enterprises", READERS, target=a_program, target_kinds=AUTHORITY),
    RouteCase("GET", BASE + "/burn-down", READERS, target=a_program, target_kinds=AUTHORITY),
    RouteCase("GET", "/v1/open-data/awards", rules.anyone),
]
