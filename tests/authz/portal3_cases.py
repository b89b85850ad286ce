"""Authorisation cases of the portal's settlement, statement, reconciliation and ledger pages.

Tried like ``portal_cases`` (a browser with a session cookie and a CSRF token). Each page has
the rule of the API route whose service it calls; where the API also lets provider API clients
in, the portal lets in the provider's operators only.
"""

from __future__ import annotations

from tests.authz import rules
from tests.authz.case import constant
from tests.authz.portal_cases import FORM_OR_REFUSED_BY_RULES, OPERATOR, OPERATOR_ON_OWN, form, page
from tests.authz.reconciliation_cases import a_report
from tests.authz.settlement_cases import (
    FINANCE,
    LEDGER_READERS,
    READERS,
    approved,
    confirmed,
    disputed,
    draft,
    generation,
)
from tests.authz.world import Actor, World
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

PROVIDERS = (OrganisationKind.provider,)
GENERATORS = rules.roles(Role.finance, Role.program_admin)
VERIFIERS = rules.roles(Role.finance, Role.auditor, Role.sysadmin)
MINE = "/portal/provider/settlements/{settlement_id}"
ANY = "/portal/authority/settlements/{settlement_id}"
MY_REPORT = "/portal/provider/reconciliations/{reconciliation_id}"
ANY_REPORT = "/portal/authority/reconciliations/{reconciliation_id}"


async def period_only(world: World, actor: Actor) -> dict[str, str]:
    """The upload form without a file: shown again (422) to those who may upload."""
    fields = await generation(world, actor)
    return {"period_start_on": fields["period_start_on"], "period_end_on": fields["period_end_on"]}


PROVIDER_ROUTES = [
    page("/portal/provider/settlements", OPERATOR),
    page(MINE, OPERATOR_ON_OWN, target=approved, target_kinds=PROVIDERS),
    form(MINE + "/confirm", OPERATOR_ON_OWN, target=approved, target_kinds=PROVIDERS),
    form(
        MINE + "/dispute",
        OPERATOR_ON_OWN,
        target=approved,
        target_kinds=PROVIDERS,
        form=constant({"reason": "金额不符"}),
    ),
    page("/portal/provider/statements", OPERATOR),
    form("/portal/provider/statements", OPERATOR, form=period_only, ok=FORM_OR_REFUSED_BY_RULES),
    page(MY_REPORT, OPERATOR_ON_OWN, target=a_report, target_kinds=PROVIDERS),
    page(MY_REPORT + "/export", OPERATOR_ON_OWN, target=a_report, target_kinds=PROVIDERS),
]

AUTHORITY_ROUTES = [
    page("/portal/authority/settlements", READERS),
    form("/portal/authority/settlements", GENERATORS, form=generation),
    page(ANY, READERS, target=draft, target_kinds=PROVIDERS),
    page(ANY + "/export", READERS, target=draft, target_kinds=PROVIDERS),
    form(ANY + "/approve", FINANCE, target=draft, target_kinds=PROVIDERS),
    form(
        ANY + "/cancel",
        FINANCE,
        target=draft,
        target_kinds=PROVIDERS,
        form=constant({"comment": "期间选错"}),
    ),
    form(
        ANY + "/pay",
        FINANCE,
        target=confirmed,
        target_kinds=PROVIDERS,
        form=constant({"bank_reference": "BANK-1"}),
    ),
    form(
        ANY + "/resolve",
        FINANCE,
        target=disputed,
        target_kinds=PROVIDERS,
        form=constant({"resolution": "uphold", "comment": "金额已核实"}),
    ),
    page("/portal/authority/reconciliations", READERS),
    page(ANY_REPORT, READERS, target=a_report, target_kinds=PROVIDERS),
    page(ANY_REPORT + "/export", READERS, target=a_report, target_kinds=PROVIDERS),
    page("/portal/authority/ledger", LEDGER_READERS),
    form("/portal/authority/ledger/verify", VERIFIERS),
]

#: Appended to ``ROUTES`` in ``matrix.py``.
PORTAL3_ROUTES = [*PROVIDER_ROUTES, *AUTHORITY_ROUTES]
