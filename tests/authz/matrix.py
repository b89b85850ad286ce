"""The authorisation matrix: every route of the app, who may call it, on whose objects.

Each ``RouteCase`` names a route, the rule deciding who may call it, and, for routes on an
object, which organisations' objects to try and a factory making such an object. The test tries
every actor of the world against every target and checks that exactly the allowed combinations
succeed (a status in ``ok``) and all others are refused (401 for nobody, else 401/403/404).
A route of the app missing from ``ROUTES`` fails the suite: add its case when you add a route.
Portal pages and forms are in ``portal_cases.py``, tried through portal session cookies.
"""

from __future__ import annotations

from tests.authz import rules
from tests.authz.application_cases import APPLICATION_ROUTES
from tests.authz.case import RouteCase, constant
from tests.authz.portal2_cases import PORTAL2_ROUTES
from tests.authz.portal3_cases import PORTAL3_ROUTES
from tests.authz.portal4_cases import PORTAL4_ROUTES
from tests.authz.portal5_cases import PORTAL5_ROUTES
from tests.authz.portal_cases import PORTAL_ROUTES
from tests.authz.programme_cases import PROGRAMME_ROUTES
from tests.authz.reconciliation_cases import RECONCILIATION_ROUTES
from tests.authz.redemption_cases import REDEMPTION_ROUTES
from tests.authz.report_cases import REPORT_ROUTES
from tests.authz.settlement_cases import SETTLEMENT_ROUTES
from tests.authz.targets import (
    active_organisation,
    client_credentials,
    fresh_api_client,
    fresh_user,
    login_form,
    new_member,
    new_organisation,
    new_user_anywhere,
    own_password_change,
    password_token,
    reason,
    refresh_token,
    registration,
    suspended_organisation,
    suspended_user,
    the_organisation,
)
from tests.authz.webhook_cases import WEBHOOK_ROUTES
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role

ALL_KINDS = tuple(OrganisationKind)

# --- the matrix ------------------------------------------------------------------------------

AUTHORITY = tuple(
    sorted(
        ROLE
        for ROLE in Role
        if ROLE in {Role.program_admin, Role.reviewer, Role.finance, Role.auditor, Role.sysadmin}
    )
)
CONFLICT_TOO = frozenset({200, 409})

IDENTITY_ROUTES: list[RouteCase] = [
    # Public documents and probes.
    RouteCase("GET", "/openapi.json", rules.anyone),
    RouteCase("GET", "/docs", rules.anyone),
    RouteCase("GET", "/docs/oauth2-redirect", rules.anyone),
    RouteCase("GET", "/redoc", rules.anyone),
    RouteCase("MOUNT", "/static-offline-docs", rules.anyone),
    RouteCase("GET", "/healthz", rules.anyone),
    RouteCase("GET", "/readyz", rules.anyone),
    RouteCase("GET", "/.well-known/jwks.json", rules.anyone),
    # Prometheus scrapes without credentials; keep /metrics on the monitoring network.
    RouteCase("GET", "/metrics", rules.anyone),
    # Authentication.
    RouteCase("POST", "/v1/auth/token", rules.anyone, form=login_form),
    RouteCase("POST", "/v1/auth/refresh", rules.anyone, json=refresh_token),
    RouteCase("POST", "/v1/auth/password-token", rules.anyone, json=password_token),
    RouteCase("POST", "/v1/auth/register", rules.anyone, json=registration),
    RouteCase("POST", "/v1/oauth/token", rules.anyone, form=client_credentials),
    RouteCase("POST", "/v1/auth/logout", rules.any_user),
    RouteCase("POST", "/v1/auth/password", rules.any_user, json=own_password_change),
    # Oneself and one's own organisation.
    RouteCase("GET", "/v1/users/me", rules.any_user),
    RouteCase("GET", "/v1/organisations/me", rules.any_principal),
    RouteCase(
        "PATCH",
        "/v1/organisations/me",
        rules.roles(Role.owner, Role.operator),
        json=constant({"industry": "I65"}),
    ),
    RouteCase("GET", "/v1/organisations/me/members", rules.roles(Role.owner)),
    RouteCase("POST", "/v1/organisations/me/members", rules.roles(Role.owner), json=new_member),
    RouteCase(
        "POST",
        "/v1/organisations/me/members/{user_id}/suspend",
        rules.roles_on_own(Role.owner),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        json=reason,
    ),
    RouteCase(
        "POST",
        "/v1/organisations/me/members/{user_id}/reactivate",
        rules.roles_on_own(Role.owner),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
    # The system administrator's user administration (auditors read).
    RouteCase("GET", "/v1/admin/users", rules.roles(Role.sysadmin, Role.auditor)),
    RouteCase("POST", "/v1/admin/users", rules.roles(Role.sysadmin), json=new_user_anywhere),
    RouteCase(
        "GET",
        "/v1/admin/users/{user_id}",
        rules.roles(Role.sysadmin, Role.auditor),
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/suspend",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        json=reason,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/reactivate",
        rules.roles(Role.sysadmin),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
    RouteCase(
        "POST",
        "/v1/admin/users/{user_id}/password-reset",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    # The authority's organisation administration.
    RouteCase("GET", "/v1/admin/organisations", rules.roles(*AUTHORITY)),
    RouteCase(
        "POST",
        "/v1/admin/organisations",
        rules.roles(Role.program_admin, Role.sysadmin),
        json=new_organisation,
    ),
    RouteCase(
        "GET",
        "/v1/admin/organisations/{organisation_id}",
        rules.roles(*AUTHORITY),
        target=the_organisation,
        target_kinds=ALL_KINDS,
    ),
    # The authority itself cannot be suspended (409): still "allowed" for a program admin.
    RouteCase(
        "POST",
        "/v1/admin/organisations/{organisation_id}/suspend",
        rules.roles(Role.program_admin),
        target=active_organisation,
        target_kinds=ALL_KINDS,
        json=reason,
        ok=CONFLICT_TOO,
    ),
    RouteCase(
        "POST",
        "/v1/admin/organisations/{organisation_id}/reactivate",
        rules.roles(Role.program_admin),
        target=suspended_organisation,
        target_kinds=ALL_KINDS,
        json=reason,
        ok=CONFLICT_TOO,
    ),
    # Provider API credentials: a provider's operators, on their own provider's credentials.
    RouteCase("GET", "/v1/provider/api-clients", rules.roles(Role.operator)),
    RouteCase(
        "POST", "/v1/provider/api-clients", rules.roles(Role.operator), json=constant({"name": "m"})
    ),
    RouteCase(
        "GET",
        "/v1/provider/api-clients/{client_pk}",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
    ),
    RouteCase(
        "POST",
        "/v1/provider/api-clients/{client_pk}/rotate",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
        json=constant({}),
    ),
    RouteCase(
        "POST",
        "/v1/provider/api-clients/{client_pk}/revoke",
        rules.roles_on_own(Role.operator),
        target=fresh_api_client,
        target_kinds=(OrganisationKind.provider,),
    ),
    RouteCase("GET", "/v1/provider/me", rules.provider_client),
    # The audit trail.
    RouteCase("GET", "/v1/admin/audit-events", rules.roles(Role.auditor, Role.sysadmin)),
    RouteCase("GET", "/v1/admin/audit-events/export", rules.roles(Role.auditor, Role.sysadmin)),
    RouteCase("GET", "/v1/admin/audit-events/verify", rules.roles(Role.auditor, Role.sysadmin)),
]

#: Every route of the application. Later issues append their own lists here.
ROUTES: list[RouteCase] = [
    *IDENTITY_ROUTES,
    *WEBHOOK_ROUTES,
    *PORTAL_ROUTES,
    *PROGRAMME_ROUTES,
    *REDEMPTION_ROUTES,
]
ROUTES += APPLICATION_ROUTES
ROUTES += SETTLEMENT_ROUTES
ROUTES += RECONCILIATION_ROUTES
ROUTES += REPORT_ROUTES
ROUTES.extend(PORTAL2_ROUTES)  # the portal's programme, application and voucher pages
ROUTES.extend(PORTAL3_ROUTES)  # the portal's settlement, reconciliation and ledger pages
ROUTES.extend(PORTAL4_ROUTES)  # the authority's programme set-up, registry, vouchers, exports
ROUTES.extend(PORTAL5_ROUTES)  # the startup's reimbursement claims
