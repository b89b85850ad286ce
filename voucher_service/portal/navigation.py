"""The portal's navigation: what each signed-in person sees, from the routes' own rules.

Each link names the dependency alias its page uses (``SysAdmin``, ``AuditReader``...), and the
roles are read from it: a link is shown exactly to those the page lets in, so no one sees a link
that leads to "forbidden", and a page's rule is never copied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from voucher_service.applications.dependencies import ReviewReader
from voucher_service.auth.dependencies import (
    AuditReader,
    AuthorityUser,
    EnterpriseOwner,
    EnterpriseUser,
    ProgramAdmin,
    ProviderOperator,
    RequireRoles,
)
from voucher_service.auth.principal import Principal
from voucher_service.ledger_admin.router import LedgerReader
from voucher_service.portal.i18n import N_
from voucher_service.reconciliation.router import AdminReader as ReconciliationReader
from voucher_service.reports.router import Reader as ExportReader
from voucher_service.settlements.router import Reader as SettlementReader
from voucher_service.users.dependencies import UserReader
from voucher_service.webhooks.dependencies import DeliveryReader


def roles_of(alias: Any) -> frozenset[str]:
    """The roles a ``requires_roles`` alias (or a dependency built on one) lets in."""
    for extra in get_args(alias)[1:]:
        dependency = getattr(extra, "dependency", None)
        if isinstance(dependency, RequireRoles):
            return frozenset(dependency.roles)
    raise TypeError(f"{alias!r} is not a requires_roles alias")


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # a catalogue message, translated where shown
    roles: frozenset[str]
    summary: str = ""  # what the page is for (dashboard cards), a catalogue message


def _items() -> list[NavItem]:
    return [
        NavItem("/portal/enterprise", N_("Dashboard"), roles_of(EnterpriseUser)),
        NavItem("/portal/enterprise/applications", N_("My applications"), roles_of(EnterpriseUser)),
        NavItem("/portal/enterprise/vouchers", N_("My vouchers"), roles_of(EnterpriseUser)),
        NavItem("/portal/enterprise/members", N_("Members"), roles_of(EnterpriseOwner)),
        NavItem("/portal/provider", N_("Dashboard"), roles_of(ProviderOperator)),
        NavItem("/portal/provider/redemptions", N_("Redemptions"), roles_of(ProviderOperator)),
        NavItem("/portal/provider/credentials", N_("API credentials"), roles_of(ProviderOperator)),
        NavItem("/portal/provider/webhook", N_("Webhooks"), roles_of(ProviderOperator)),
        NavItem(
            "/portal/provider/webhook/deliveries", N_("Delivery log"), roles_of(ProviderOperator)
        ),
        NavItem("/portal/authority", N_("Dashboard"), roles_of(AuthorityUser)),
        NavItem(
            "/portal/authority/review",
            N_("Review queue"),
            roles_of(ReviewReader),
            N_("Applications waiting at each stage; decide one by one or in bulk."),
        ),
        NavItem(
            "/portal/authority/programmes",
            N_("Programmes"),
            roles_of(AuthorityUser),
            N_("Budgets, commitments and spending, with burn-down, redemption and funnel charts."),
        ),
        NavItem(
            "/portal/authority/users",
            N_("Users"),
            roles_of(UserReader),
            N_("Every account: find, suspend, reactivate, reset a password."),
        ),
        NavItem(
            "/portal/authority/organisations",
            N_("Organisations"),
            roles_of(AuthorityUser),
            N_("Enterprises, providers and the authority; register providers, add their users."),
        ),
        NavItem(
            "/portal/authority/webhooks",
            N_("Webhook delivery"),
            roles_of(DeliveryReader),
            N_("Whether providers receive our callbacks; dead letters and replay."),
        ),
        NavItem(
            "/portal/authority/audit",
            N_("Audit log"),
            roles_of(AuditReader),
            N_("Who did what and when, with filters and CSV export."),
        ),
        NavItem(
            "/portal/authority/providers",
            N_("Providers"),
            roles_of(AuthorityUser),
            N_("The provider registry: publicity, approval, suspension and catalogues."),
        ),
        NavItem(
            "/portal/authority/vouchers",
            N_("Vouchers"),
            roles_of(AuthorityUser),
            N_("Find a voucher by its code; freeze, unfreeze or revoke it."),
        ),
        NavItem(
            "/portal/authority/programme-setup",
            N_("New programme"),
            roles_of(ProgramAdmin),
            N_("Create a programme with its rates, caps, windows and review stages."),
        ),
        NavItem(
            "/portal/authority/exports",
            N_("Exports"),
            roles_of(ExportReader),
            N_("CSV and Excel files of settlements, reconciliations and reports."),
        ),
    ]


ITEMS = _items()
ITEMS += [
    NavItem("/portal/provider/settlements", N_("Settlements"), roles_of(ProviderOperator)),
    NavItem("/portal/provider/statements", N_("Reconciliation"), roles_of(ProviderOperator)),
    NavItem(
        "/portal/authority/settlements",
        N_("Settlements"),
        roles_of(SettlementReader),
        N_("Generate, approve and pay what payees are owed per period."),
    ),
    NavItem(
        "/portal/authority/reconciliations",
        N_("Reconciliation"),
        roles_of(ReconciliationReader),
        N_("Providers' statements matched against our redemptions, with every difference."),
    ),
    NavItem(
        "/portal/authority/ledger",
        N_("Ledger health"),
        roles_of(LedgerReader),
        N_("Trial balance, verification, checkpoints and each programme's money."),
    ),
]
PUBLIC = [
    NavItem("/portal/", N_("Home"), frozenset()),
    NavItem("/portal/programmes", N_("Programmes"), frozenset()),
    NavItem("/portal/publicity", N_("Publicity"), frozenset()),
    NavItem("/portal/register", N_("Register an enterprise"), frozenset()),
]


def items_for(principal: Principal | None) -> list[NavItem]:
    """The links of the main navigation for ``principal`` (the public ones when signed out)."""
    if principal is None or principal.role is None:
        return PUBLIC
    return [item for item in ITEMS if principal.role in item.roles]


def home_for_role(role: str) -> str:
    """Where a person with ``role`` lands after signing in: the first page of their navigation."""
    return next((item.href for item in ITEMS if role in item.roles), "/portal/")


def current(items: list[NavItem], path: str) -> str | None:
    """The link of ``items`` that ``path`` is under (the most specific one)."""
    under = [i.href for i in items if path == i.href or path.startswith(i.href.rstrip("/") + "/")]
    return max(under, key=len, default=None)


ITEMS.append(NavItem("/portal/enterprise/claims", N_("My claims"), roles_of(EnterpriseUser)))
