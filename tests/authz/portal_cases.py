"""Authorisation cases of the portal: every page and form, tried as a browser would.

Each actor signs in with a portal session cookie (the API client and the anonymous actor have
none) and posts forms with a valid CSRF token, so the only thing that decides is who the session
belongs to. A refusal is the sign-in redirect for someone without a session, else 403 or 404
(another organisation's object is "not found", exactly as in the API). An allowed form post
answers 303 to somewhere other than the sign-in page (POST/redirect/GET).

The rules are the API's: a portal page that does what an API route does has the same rule, on
the same objects; where the API also lets provider API clients in, the portal (a place for
people) lets in their operators only.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.targets import (
    NEW_PASSWORD,
    active_organisation,
    fresh_api_client,
    fresh_user,
    login_form,
    new_member,
    new_organisation,
    password_token,
    reason,
    suspended_organisation,
    suspended_user,
    the_organisation,
)
from tests.authz.webhook_cases import (
    HOOK_URL,
    dead_event,
    filter_by_that_event,
    own_endpoint,
    the_provider,
)
from tests.authz.world import Actor, World, unique
from tests.factories import DEFAULT_PASSWORD, make_credit_code
from voucher_service.auth import sessions
from voucher_service.auth.dependencies import BROWSER_COOKIE
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.portal import csrf
from voucher_service.users.models import ROLES_BY_KIND, Role

ALL_KINDS = tuple(OrganisationKind)
PROVIDERS = (OrganisationKind.provider,)
AUTHORITY = tuple(sorted(ROLES_BY_KIND[OrganisationKind.authority]))
FORM_OK = frozenset({303})
#: Suspending the authority itself is refused by the rules (the API's 409): the form is shown
#: again with the reason (422), which is still "allowed" as far as who may try goes.
FORM_OR_REFUSED_BY_RULES = frozenset({303, 422})
CSRF_VALUE = "m" * 43
SIGN_IN = "/portal/login"

OPERATOR = rules.roles(Role.operator)
OPERATOR_ON_OWN = rules.roles_on_own(Role.operator)
DELIVERY_READERS = rules.roles(Role.program_admin, Role.finance, Role.auditor, Role.sysadmin)
DELIVERY_OPERATORS = rules.roles(Role.program_admin, Role.sysadmin)
USER_READERS = rules.roles(Role.sysadmin, Role.auditor)


# --- payloads of portal forms ----------------------------------------------------------------


async def portal_registration(_world: World, _actor: Actor) -> dict[str, Any]:
    return {
        "name": unique("Startup "),
        "credit_code": make_credit_code(),
        "owner_name": "F",
        "email": f"{unique('founder')}@example.cn",
        "password": DEFAULT_PASSWORD,
        "password_confirm": DEFAULT_PASSWORD,
    }


async def sign_in_form(world: World, actor: Actor) -> dict[str, Any]:
    credentials = await login_form(world, actor)
    return {"email": credentials["username"], "password": credentials["password"]}


async def set_password_form(world: World, actor: Actor) -> dict[str, Any]:
    body = await password_token(world, actor)
    return {"token": body["token"], "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}


async def change_password_form(_world: World, _actor: Actor) -> dict[str, Any]:
    return {
        "current_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }


async def organisation_noting_kind(
    world: World, owner: Organisation, actor: Actor
) -> dict[str, str]:
    """The organisation, remembering its kind (a new user's role must fit it)."""
    world.extras["organisation_kind"] = OrganisationKind(owner.kind)
    return await the_organisation(world, owner, actor)


async def user_fitting_organisation(world: World, _actor: Actor) -> dict[str, Any]:
    kind = world.extras["organisation_kind"]
    return {
        "name": "Created",
        "email": f"{unique('created')}@example.cn",
        "role": sorted(ROLES_BY_KIND[kind])[0],
    }


async def that_dead_event(world: World, _actor: Actor) -> dict[str, Any]:
    return {"event_ids": [world.extras["event_id"]], "all": "false"}


# --- trying a portal route as a browser ------------------------------------------------------


async def session_token(world: World, actor: Actor) -> str | None:
    """The actor's portal session (made once per world); None for those who cannot sign in."""
    if actor.user_id is None:
        return None
    key = f"portal-session:{actor.user_id}"
    if key not in world.extras:
        grant = await sessions.start_browser_session(
            world.session, actor.user_id, world.app.state.settings
        )
        await world.session.commit()
        world.extras[key] = grant.token
    return str(world.extras[key])


async def attempt(
    world: World, case: RouteCase, actor: Actor, url: str, form: Any, query: Any
) -> httpx.Response:
    """The request of ``case`` from ``actor``'s browser (a client of its own: no shared jar)."""
    cookies = {csrf.COOKIE_NAME: CSRF_VALUE}
    token = await session_token(world, actor)
    if token:
        cookies[BROWSER_COOKIE] = token
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", cookies=cookies
    ) as browser:
        if case.method == "MOUNT":
            return await browser.get(f"{url}/{case.asset}")
        if case.method == "POST":
            data = {csrf.FIELD_NAME: csrf.token_for(world.app.state.csrf_key, CSRF_VALUE)}
            return await browser.post(url, data={**data, **(form or {})}, params=query)
        return await browser.get(url, params=query)


def _to_sign_in(response: httpx.Response) -> bool:
    """The portal's refusal of a visitor without a session: sign in, then come back."""
    location = response.headers.get("location", "")
    return response.status_code == 303 and location.startswith(f"{SIGN_IN}?next=")


def verdict(case: RouteCase, actor: Actor, response: httpx.Response, allowed: bool) -> bool:
    """Whether ``response`` is what ``actor`` should get: success if allowed, else a refusal."""
    if allowed:
        return response.status_code in case.ok and not _to_sign_in(response)
    if actor.user_id is None:
        return _to_sign_in(response)
    return response.status_code in (403, 404)


def page(path: str, allow: rules.Rule, **kwargs: Any) -> RouteCase:
    return RouteCase("GET", path, allow, portal=True, **kwargs)


def form(path: str, allow: rules.Rule, **kwargs: Any) -> RouteCase:
    kwargs.setdefault("ok", FORM_OK)
    return RouteCase("POST", path, allow, portal=True, **kwargs)


PUBLIC_ROUTES: list[RouteCase] = [
    page("/portal/", rules.anyone),
    page("/portal/lang/{language}", rules.anyone, params={"language": "en"}, ok=FORM_OK),
    RouteCase("MOUNT", "/portal/static", rules.anyone, asset="portal.css", portal=True),
    page("/portal/login", rules.anyone),
    form("/portal/login", rules.anyone, form=sign_in_form),
    form("/portal/logout", rules.any_user),
    page("/portal/register", rules.anyone),
    form("/portal/register", rules.anyone, form=portal_registration),
    page("/portal/password", rules.anyone),
    form("/portal/password", rules.anyone, form=set_password_form),
    page("/portal/account", rules.any_user),
    form("/portal/account/password", rules.any_user, form=change_password_form),
]

ENTERPRISE_ROUTES: list[RouteCase] = [
    page("/portal/enterprise", rules.roles(Role.owner, Role.member)),
    page("/portal/enterprise/members", rules.roles(Role.owner)),
    form("/portal/enterprise/members", rules.roles(Role.owner), form=new_member),
    form(
        "/portal/enterprise/members/{user_id}/suspend",
        rules.roles_on_own(Role.owner),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        form=reason,
    ),
    form(
        "/portal/enterprise/members/{user_id}/reactivate",
        rules.roles_on_own(Role.owner),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
]

PROVIDER_ROUTES: list[RouteCase] = [
    page("/portal/provider", OPERATOR),
    page("/portal/provider/credentials", OPERATOR),
    form(
        "/portal/provider/credentials",
        OPERATOR,
        form=constant({"name": "matrix", "scopes": ["vouchers:read"]}),
    ),
    form(
        "/portal/provider/credentials/{client_pk}/rotate",
        OPERATOR_ON_OWN,
        target=fresh_api_client,
        target_kinds=PROVIDERS,
    ),
    form(
        "/portal/provider/credentials/{client_pk}/revoke",
        OPERATOR_ON_OWN,
        target=fresh_api_client,
        target_kinds=PROVIDERS,
    ),
    page("/portal/provider/webhook", OPERATOR),
    form(
        "/portal/provider/webhook",
        OPERATOR,
        form=constant({"url": HOOK_URL, "events": ["voucher.bound"]}),
    ),
    form("/portal/provider/webhook/rotate", OPERATOR, arrange=own_endpoint),
    form("/portal/provider/webhook/test", OPERATOR, arrange=own_endpoint),
    page(
        "/portal/provider/webhook/deliveries",
        OPERATOR_ON_OWN,
        target=dead_event,
        target_kinds=PROVIDERS,
        query=filter_by_that_event,
    ),
    page("/portal/provider/webhook/events", OPERATOR),
    form(
        "/portal/provider/webhook/replay",
        OPERATOR_ON_OWN,
        target=dead_event,
        target_kinds=PROVIDERS,
        form=that_dead_event,
    ),
]

AUTHORITY_ROUTES: list[RouteCase] = [
    page("/portal/authority", rules.roles(*AUTHORITY)),
    page("/portal/authority/webhooks", DELIVERY_READERS),
    page(
        "/portal/authority/webhooks/{provider_id}",
        DELIVERY_READERS,
        target=the_provider,
        target_kinds=PROVIDERS,
    ),
    form(
        "/portal/authority/webhooks/{provider_id}/replay",
        DELIVERY_OPERATORS,
        target=the_provider,
        target_kinds=PROVIDERS,
        form=constant({"all": "true"}),
    ),
    page("/portal/authority/users", USER_READERS),
    page(
        "/portal/authority/users/{user_id}",
        USER_READERS,
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    form(
        "/portal/authority/users/{user_id}/suspend",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
        form=reason,
    ),
    form(
        "/portal/authority/users/{user_id}/reactivate",
        rules.roles(Role.sysadmin),
        target=suspended_user,
        target_kinds=ALL_KINDS,
    ),
    form(
        "/portal/authority/users/{user_id}/password-reset",
        rules.roles(Role.sysadmin),
        target=fresh_user,
        target_kinds=ALL_KINDS,
    ),
    page("/portal/authority/organisations", rules.roles(*AUTHORITY)),
    form(
        "/portal/authority/organisations",
        rules.roles(Role.program_admin, Role.sysadmin),
        form=new_organisation,
    ),
    page(
        "/portal/authority/organisations/{organisation_id}",
        rules.roles(*AUTHORITY),
        target=the_organisation,
        target_kinds=ALL_KINDS,
    ),
    form(
        "/portal/authority/organisations/{organisation_id}/users",
        rules.roles(Role.sysadmin),
        target=organisation_noting_kind,
        target_kinds=ALL_KINDS,
        form=user_fitting_organisation,
    ),
    form(
        "/portal/authority/organisations/{organisation_id}/suspend",
        rules.roles(Role.program_admin),
        target=active_organisation,
        target_kinds=ALL_KINDS,
        form=reason,
        ok=FORM_OR_REFUSED_BY_RULES,
    ),
    form(
        "/portal/authority/organisations/{organisation_id}/reactivate",
        rules.roles(Role.program_admin),
        target=suspended_organisation,
        target_kinds=ALL_KINDS,
        form=reason,
        ok=FORM_OR_REFUSED_BY_RULES,
    ),
    page("/portal/authority/audit", rules.roles(Role.auditor, Role.sysadmin)),
    page("/portal/authority/audit/export", rules.roles(Role.auditor, Role.sysadmin)),
]

#: Every route of the portal (``matrix.py`` appends them to ``ROUTES``).
PORTAL_ROUTES: list[RouteCase] = [
    *PUBLIC_ROUTES,
    *ENTERPRISE_ROUTES,
    *PROVIDER_ROUTES,
    *AUTHORITY_ROUTES,
]
