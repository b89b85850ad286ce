"""Authorisation cases of the webhook and callback routes.

Provider routes act on the caller's own provider, so an operator or API client of provider A is
tried against events of A and of B: B's are "not found". Authority routes take any provider.
Inbound callbacks come only from API clients with a registered key (tests/callbacks signs them).
"""

from __future__ import annotations

from typing import Any

from ledger.sqltypes import utcnow
from providers.webhooks.endpoints import set_endpoint
from providers.webhooks.events import encode_event, example_data, format_timestamp
from providers.webhooks.models import DEAD, WebhookEvent
from tests.authz import rules
from tests.authz.case import RouteCase, constant
from tests.authz.world import Actor, World
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role
from voucher_service.webhooks.runtime import secret_box, url_guard

# A public address literal: the SSRF guard accepts it without a DNS lookup.
HOOK_URL = "https://93.184.216.34/hook"
PROVIDERS = (OrganisationKind.provider,)
READERS = rules.roles(Role.program_admin, Role.finance, Role.auditor, Role.sysadmin)
OPERATORS = rules.roles(Role.program_admin, Role.sysadmin)


async def ensure_endpoint(world: World, organisation: Organisation) -> None:
    """Give the provider an endpoint (once per world)."""
    key = f"endpoint:{organisation.id}"
    if key in world.extras:
        return
    settings = world.app.state.settings
    box, guard = secret_box(settings), url_guard(settings)
    await set_endpoint(world.session, box, guard, organisation.id, HOOK_URL, ["voucher.bound"])
    await world.session.commit()
    world.extras[key] = True


async def own_endpoint(world: World, actor: Actor) -> None:
    """The actor's provider has an endpoint (its rotate, test and read routes need one)."""
    if actor.organisation is not None and actor.organisation.kind == OrganisationKind.provider:
        await ensure_endpoint(world, actor.organisation)


async def dead_event(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    """A dead-lettered event of ``owner`` (which has an endpoint, so it can be replayed)."""
    await ensure_endpoint(world, owner)
    now = utcnow()
    event = WebhookEvent(
        provider_id=owner.id,
        event_type="voucher.bound",
        payload=encode_event("voucher.bound", example_data("voucher.bound"), now),
        status=DEAD,
        next_attempt_at=None,
        dead_lettered_at=now,
    )
    world.session.add(event)
    await world.session.commit()
    world.extras["event_id"] = str(event.id)
    return {"event_id": str(event.id)}


async def the_provider(world: World, owner: Organisation, _actor: Actor) -> dict[str, str]:
    await ensure_endpoint(world, owner)
    return {"provider_id": str(owner.id)}


def signing_client(_actor: Actor, _owner: Organisation | None) -> bool:
    """A provider API client with a registered key: the cast's client has a secret, so nobody.

    Users are refused as users, the cast's client because it cannot sign (403); the signed,
    accepted case is in tests/callbacks.
    """
    return False


async def a_test_callback(_world: World, _actor: Actor) -> dict[str, Any]:
    return {
        "id": "matrix-1",
        "type": "callback.test",
        "timestamp": format_timestamp(utcnow()),
        "data": {},
    }


async def that_event(world: World, _actor: Actor) -> dict[str, Any]:
    return {"event_ids": [world.extras["event_id"]]}


async def filter_by_that_event(world: World, _actor: Actor) -> dict[str, Any]:
    return {"event_id": world.extras["event_id"]}


WEBHOOK_ROUTES: list[RouteCase] = [
    # A provider's own webhook endpoint and delivery history.
    RouteCase(
        "PUT",
        "/v1/provider/webhook-endpoint",
        rules.provider_manager,
        json=constant({"url": HOOK_URL, "events": ["voucher.bound"]}),
    ),
    RouteCase("GET", "/v1/provider/webhook-endpoint", rules.provider_manager, arrange=own_endpoint),
    RouteCase(
        "POST",
        "/v1/provider/webhook-endpoint/rotate-secret",
        rules.provider_manager,
        arrange=own_endpoint,
    ),
    RouteCase(
        "POST",
        "/v1/provider/webhook-endpoint/test",
        rules.provider_manager,
        arrange=own_endpoint,
        ok=frozenset({202}),
    ),
    RouteCase(
        "GET",
        "/v1/provider/webhook-deliveries",
        rules.provider_manager_on_own,
        target=dead_event,
        target_kinds=PROVIDERS,
        query=filter_by_that_event,
    ),
    RouteCase("GET", "/v1/provider/webhook-events", rules.provider_manager),
    RouteCase(
        "GET",
        "/v1/provider/webhook-events/{event_id}",
        rules.provider_manager_on_own,
        target=dead_event,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        "/v1/provider/webhook-events/replay",
        rules.provider_manager_on_own,
        target=dead_event,
        target_kinds=PROVIDERS,
        json=that_event,
    ),
    RouteCase("GET", "/v1/provider/webhook-notices", rules.provider_manager),
    # The authority: figures for every provider, one provider's events and log, replay.
    RouteCase("GET", "/v1/admin/webhooks/metrics", READERS),
    RouteCase(
        "GET",
        "/v1/admin/webhooks/providers/{provider_id}/events",
        READERS,
        target=the_provider,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "GET",
        "/v1/admin/webhooks/providers/{provider_id}/deliveries",
        READERS,
        target=the_provider,
        target_kinds=PROVIDERS,
    ),
    RouteCase(
        "POST",
        "/v1/admin/webhooks/providers/{provider_id}/replay",
        OPERATORS,
        target=the_provider,
        target_kinds=PROVIDERS,
        json=constant({}),
    ),
    # Inbound callbacks.
    RouteCase("POST", "/v1/provider/callbacks", signing_client, json=a_test_callback),
]
