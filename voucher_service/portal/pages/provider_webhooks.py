"""The provider's webhooks: endpoint (URL, events, test, secret rotation), notices, delivery
log and dead letters with replay. The same services and rules as ``/v1/provider/webhook-*``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from providers.webhooks import endpoints
from providers.webhooks.events import EVENT_TYPES
from providers.webhooks.history import attempts_query, event_types_of, events_query, notices_query
from providers.webhooks.models import DEAD, WebhookAttempt, WebhookEvent
from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash, Secret
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import local_time, portal_language, redirect, render
from voucher_service.webhooks import service
from voucher_service.webhooks.dependencies import WebhookManager, check_own_events, own_event
from voucher_service.webhooks.schemas import EventStatus, WebhookEndpointSet

router = portal_router("/provider/webhook")
WEBHOOK = "/portal/provider/webhook"
PAGE_SIZE = 50
SECRET_HINT = N_(
    "Configure your receiver with it now: it is shown only this once. Every event is signed "
    "with it (Standard Webhooks)."
)
Text = Annotated[str, Query(max_length=100)]


async def _endpoint_page(
    request: Request, session: SessionDep, principal: WebhookManager, form: Form, status: int = 200
) -> Response:
    endpoint = await endpoints.find_endpoint(session, principal.organisation_id)
    if endpoint is not None and not form.values:
        form.values = {"url": endpoint.url, "events": list(endpoint.event_types)}
    form.values.setdefault("events", [])
    notices = await session.scalars(notices_query(principal.organisation_id).limit(20))
    context = {
        "endpoint": endpoint,
        "notices": notices.all(),
        "event_types": EVENT_TYPES,
        "form": form,
    }
    return render(request, "provider/webhook.html", context, status=status)


@router.get("")
async def endpoint_page(
    request: Request, principal: WebhookManager, session: SessionDep
) -> Response:
    return await _endpoint_page(request, session, principal, Form())


@router.post("")
async def save_endpoint(
    request: Request, principal: WebhookManager, session: SessionDep, settings: SettingsDep
) -> Response:
    """Save URL and events (``PUT /v1/provider/webhook-endpoint``): SSRF-checked, re-enables."""
    form, language = await forms.read(request, lists=("events",)), portal_language(request)
    data = {"url": form.values.get("url", ""), "events": form.values["events"]}
    body = forms.validate(form, WebhookEndpointSet, data, language)
    if body is None:
        return await _endpoint_page(request, session, principal, form, status=422)
    try:
        saved = await forms.attempt(
            session,
            lambda: service.set_endpoint(
                session, settings, principal.organisation_id, body.url, body.events, actor=principal
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, {Exception: "url"})
        return await _endpoint_page(request, session, principal, form, status=422)
    secret = Secret(N_("Signing secret"), saved.secret, SECRET_HINT) if saved.secret else None
    return redirect(request, WEBHOOK, Flash(N_("The webhook endpoint is saved."), secret=secret))


@router.post("/rotate")
async def rotate_secret(
    request: Request, principal: WebhookManager, session: SessionDep, settings: SettingsDep
) -> Response:
    """A new signing secret (shown once); the old one co-signs during the overlap."""
    try:
        secret, endpoint = await forms.attempt(
            session,
            lambda: service.rotate_secret(
                session, settings, principal.organisation_id, actor=principal
            ),
        )
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        return await _endpoint_page(request, session, principal, form, status=422)
    message = Flash(
        N_("A new signing secret is made; the previous one also signs until %(until)s."),
        params={"until": local_time(endpoint.previous_secret_expires_at)},
        secret=Secret(N_("Signing secret"), secret, SECRET_HINT),
    )
    return redirect(request, WEBHOOK, message)


@router.post("/test")
async def send_test(request: Request, principal: WebhookManager, session: SessionDep) -> Response:
    """Queue a ``webhook.test`` event; its attempts appear in the delivery log."""
    try:
        event_id = await forms.attempt(
            session,
            lambda: service.send_test_event(session, principal.organisation_id, actor=principal),
        )
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        return await _endpoint_page(request, session, principal, form, status=422)
    message = Flash(N_("A test event is queued: it appears in the delivery log in a moment."))
    return redirect(request, f"{WEBHOOK}/deliveries?event_id={event_id}", message)


@router.get("/deliveries")
async def deliveries(
    request: Request,
    principal: WebhookManager,
    session: SessionDep,
    event_id: Text = "",
    type: Text = "",
    cursor: Text = "",
) -> Response:
    """The delivery log, newest first, filtered by event or type (keyset pages)."""
    form, language = Form({"event_id": event_id, "type": type}), portal_language(request)
    wanted = forms.parse_uuid(form, "event_id", language)
    if wanted is not None:
        await own_event(request, principal, session, wanted)
    if type and type not in (*EVENT_TYPES, "webhook.test"):
        form.errors["type"] = translate(language, N_("Choose one of the options."))
    query = attempts_query(principal.organisation_id, event_id=wanted, event_type=type or None)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, WebhookAttempt.id, cursor, PAGE_SIZE
    )
    types = await event_types_of(session, {row.event_id for row in rows})
    context = {
        "attempts": rows,
        "types": types,
        "event_types": EVENT_TYPES,
        "next_cursor": next_cursor,
        "form": form,
    }
    return render(request, "provider/deliveries.html", context, status=422 if form.errors else 200)


@router.get("/events")
async def events(
    request: Request,
    principal: WebhookManager,
    session: SessionDep,
    status: Text = DEAD,
    type: Text = "",
    cursor: Text = "",
) -> Response:
    """Events by state (dead letters first of all, to replay), newest first."""
    form, language = Form({"status": status, "type": type}), portal_language(request)
    if status and status not in set(EventStatus):
        form.errors["status"] = translate(language, N_("Choose one of the options."))
    query = events_query(principal.organisation_id, status=status or None, event_type=type or None)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, WebhookEvent.id, cursor, PAGE_SIZE
    )
    endpoint = await endpoints.find_endpoint(session, principal.organisation_id)
    context = {
        "events": rows,
        "next_cursor": next_cursor,
        "event_types": EVENT_TYPES,
        "statuses": list(EventStatus),
        "endpoint": endpoint,
        "form": form,
    }
    return render(request, "provider/events.html", context, status=422 if form.errors else 200)


@router.post("/replay")
async def replay(request: Request, principal: WebhookManager, session: SessionDep) -> Response:
    """Send dead letters again, the ticked ones or all (``POST .../webhook-events/replay``)."""
    form, language = await forms.read(request, lists=("event_ids",)), portal_language(request)
    ids: list[uuid.UUID] | None = None
    if form.values.get("all") != "true":
        try:
            ids = [uuid.UUID(raw) for raw in form.values["event_ids"]]
        except ValueError as exc:
            raise NotFound() from exc
        if not ids:
            message = Flash(N_("Tick the dead letters to send again first."), kind="warn")
            return redirect(request, f"{WEBHOOK}/events", message)
        await check_own_events(request, principal, session, ids)
    try:
        replayed = await forms.attempt(
            session,
            lambda: service.replay(session, principal.organisation_id, ids, actor=principal),
        )
    except forms.Refused as refused:
        message = Flash(forms.problem_message(language, refused.reason), kind="bad", literal=True)
        return redirect(request, f"{WEBHOOK}/events", message)
    message = Flash(N_("%(count)s events are queued again."), params={"count": str(len(replayed))})
    return redirect(request, f"{WEBHOOK}/events?status=pending", message)
