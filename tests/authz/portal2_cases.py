"""Authorisation cases of the portal's programme, application, review and voucher pages.

Tried exactly like ``portal_cases`` (a browser with a session cookie and a CSRF token); each
page has the rule of the API route whose service it calls.
"""

from __future__ import annotations

from tests.authz import rules
from tests.authz.portal_cases import page
from tests.authz.world import Actor, World
from tests.programs.factories import create_program
from voucher_service.organisations.models import Organisation, OrganisationKind

ANY_ORG = (OrganisationKind.authority,)  # the target's owner does not matter: one attempt


async def open_programme(world: World, _owner: Organisation, _actor: Actor) -> dict[str, str]:
    program = await create_program(world.session)
    return {"program_id": str(program.id)}


PROGRAMME_ROUTES = [
    page("/portal/programmes", rules.anyone),
    page(
        "/portal/programmes/{program_id}",
        rules.anyone,
        target=open_programme,
        target_kinds=ANY_ORG,
    ),
]

PORTAL2_ROUTES = [*PROGRAMME_ROUTES]
