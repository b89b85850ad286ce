"""Authorisation cases of reconciliation: uploads, reports, differences, errors and exports.

A statement is sent as the request's JSON body, which is a one-line JSON-lines statement.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from ledger.sqltypes import utcnow
from tests.authz import rules
from tests.authz.case import RouteCase
from tests.authz.world import Actor, World
from voucher_service.exports.columns import SHANGHAI
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.reconciliation import service
from voucher_service.users.models import Role

PROVIDERS = (OrganisationKind.provider,)
READERS = rules.roles(Role.finance, Role.program_admin, Role.auditor, Role.sysadmin)
UPLOADERS = rules.roles(Role.finance, Role.program_admin)


def _period() -> dict[str, str]:
    today = utcnow().astimezone(SHANGHAI).date()
    return {"period_start_on": str(today - timedelta(days=1)), "period_end_on": str(today)}


async def statement(_world: World, _actor: Actor) -> dict[str, Any]:
    return {"order_id": "M-1", "amount": 100, "occurred_at": utcnow().isoformat()}


async def period(_world: World, _actor: Actor) -> dict[str, Any]:
    return _period()


async def for_provider_b(world: World, _actor: Actor) -> dict[str, Any]:
    return {**_period(), "provider_id": str(world.org(OrganisationKind.provider, "B").id)}


async def a_report(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    key = f"reconciliation:{owner.id}"
    if key not in world.extras:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "statement.csv"
            path.write_text(f"order_id,amount,occurred_at\nM-1,100,{utcnow().isoformat()}\n")
            today = utcnow().astimezone(SHANGHAI).date()
            report = await service.reconcile(
                world.session, path, owner.id, (today - timedelta(days=1), today), None
            )
        await world.session.commit()
        world.extras[key] = str(report.id)
    return {"reconciliation_id": world.extras[key]}


MINE = "/v1/provider/reconciliations/{reconciliation_id}"
ANY = "/v1/admin/reconciliations/{reconciliation_id}"
OWN = rules.provider_manager_on_own

RECONCILIATION_ROUTES: list[RouteCase] = [
    RouteCase(
        "POST",
        "/v1/provider/statements",
        rules.provider_manager,
        json=statement,
        query=period,
        ok=frozenset({201}),
    ),
    RouteCase("GET", "/v1/provider/reconciliations", rules.provider_manager),
    RouteCase("GET", MINE, OWN, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", MINE + "/differences", OWN, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", MINE + "/errors", OWN, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", MINE + "/export", OWN, target=a_report, target_kinds=PROVIDERS),
    RouteCase(
        "POST",
        "/v1/admin/reconciliations",
        UPLOADERS,
        json=statement,
        query=for_provider_b,
        ok=frozenset({201}),
    ),
    RouteCase("GET", "/v1/admin/reconciliations", READERS),
    RouteCase("GET", ANY, READERS, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", ANY + "/differences", READERS, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", ANY + "/errors", READERS, target=a_report, target_kinds=PROVIDERS),
    RouteCase("GET", ANY + "/export", READERS, target=a_report, target_kinds=PROVIDERS),
]
