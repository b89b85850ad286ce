"""The authority's dashboard and webhook delivery pages (``/v1/admin/webhooks``' rules)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy import func
from sqlmodel import col, select
from starlette.responses import Response

from providers.webhooks.history import attempts_query, event_types_of, events_query
from providers.webhooks.models import DEAD, WebhookAttempt, WebhookEvent
from voucher_service.auth.dependencies import AuditReader, AuthorityUser
from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import SessionDep
from voucher_service.kit.pagination import PageParams, paginate
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.i18n import N_
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.users.dependencies import UserReader
from voucher_service.users.models import User
from voucher_service.webhooks import service
from voucher_service.webhooks.dependencies import (
    DeliveryOperator,
    DeliveryReader,
    ProviderForAuthority,
)

router = portal_router("/authority")
WEBHOOKS = "/portal/authority/webhooks"


@router.get("")
async def dashboard(request: Request, principal: AuthorityUser, session: SessionDep) -> Response:
    """Figures the person's role may see, and where to go from here."""
    by_kind = dict(
        (
            await session.execute(
                select(col(Organisation.kind), func.count()).group_by(col(Organisation.kind))
            )
        ).all()
    )
    users = None
    if principal.role in roles_of(UserReader):
        users = await session.scalar(select(func.count()).select_from(User))
    overview = None
    if principal.role in roles_of(DeliveryReader):
        overview = await service.provider_overview(session)
    context = {
        "by_kind": by_kind,
        "user_count": users,
        "dead_letters": sum(p.dead_lettered for p in overview) if overview is not None else None,
        "can_audit": principal.role in roles_of(AuditReader),
    }
    return render(request, "authority/dashboard.html", context)


@router.get("/webhooks")
async def delivery_overview(
    request: Request, _principal: DeliveryReader, session: SessionDep
) -> Response:
    """Per provider: pending, retrying, delivered, dead-lettered, oldest pending, endpoint."""
    rows = await service.provider_overview(session)
    return render(request, "authority/webhooks.html", {"providers": rows})


@router.get("/webhooks/{provider_id}")
async def provider_delivery(
    request: Request,
    principal: DeliveryReader,
    provider: ProviderForAuthority,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A provider's dead letters (to replay) and its latest delivery attempts."""
    form = forms.Form()
    params = forms.page_params(cursor, form, portal_language(request))
    dead_query = events_query(provider.id, status=DEAD)
    dead, next_cursor = await paginate(session, dead_query, WebhookEvent.id, params)  # type: ignore[arg-type]
    latest = PageParams(20, None)
    attempts, _ = await paginate(session, attempts_query(provider.id), WebhookAttempt.id, latest)  # type: ignore[arg-type]
    context = {
        "provider": provider,
        "dead": dead,
        "next_cursor": next_cursor,
        "attempts": attempts,
        "types": await event_types_of(session, {a.event_id for a in attempts}),
        "can_replay": principal.role in roles_of(DeliveryOperator),
        "form": form,
    }
    return render(request, "authority/provider_webhooks.html", context)


@router.post("/webhooks/{provider_id}/replay")
async def replay(
    request: Request,
    principal: DeliveryOperator,
    provider: ProviderForAuthority,
    session: SessionDep,
) -> Response:
    """Replay the provider's dead letters: the ticked ones, or all of them (audited)."""
    form = await forms.read(request, lists=("event_ids",))
    target = f"{WEBHOOKS}/{provider.id}"
    ids: list[uuid.UUID] | None = None
    if form.values.get("all") != "true":
        try:
            ids = [uuid.UUID(raw) for raw in form.values["event_ids"]]
        except ValueError as exc:
            raise NotFound() from exc
        if not ids:
            message = Flash(N_("Tick the dead letters to send again first."), kind="warn")
            return redirect(request, target, message)
    try:
        replayed = await forms.attempt(
            session, lambda: service.replay(session, provider.id, ids, actor=principal)
        )
    except forms.Refused as refused:
        text = forms.problem_message(portal_language(request), refused.reason)
        return redirect(request, target, Flash(text, kind="bad", literal=True))
    message = Flash(N_("%(count)s events are queued again."), params={"count": str(len(replayed))})
    return redirect(request, target, message)
