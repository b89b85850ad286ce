"""The public publicity page (公示): awards in publicity now, each with an objection form.
No sign-in; the rules and the rate limit are those of ``/v1/publicity``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Request
from starlette.responses import Response

from ledger.sqltypes import utcnow
from voucher_service.applications import publicity
from voucher_service.applications.schemas import ObjectionCreate
from voucher_service.auth.errors import NotFound, RateLimited
from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.kit.context import current_client_address
from voucher_service.portal import forms
from voucher_service.portal.auth import Viewer
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.ratelimit import service as ratelimit

router = portal_router("/publicity")
PAGE = "/portal/publicity"


async def _page(
    request: Request,
    session: SessionDep,
    form: Form,
    target: uuid.UUID | None = None,
    status: int = 200,
) -> Response:
    entries = await publicity.listed(session, utcnow(), after=None, limit=200)
    context = {"entries": entries, "form": form, "target": target}
    return render(request, "public/publicity.html", context, status=status)


@router.get("")
async def publicity_list(request: Request, _viewer: Viewer, session: SessionDep) -> Response:
    return await _page(request, session, Form())


@router.post("/{application_id}/objections")
async def object_to(
    request: Request,
    _viewer: Viewer,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    application_id: Annotated[uuid.UUID, Path()],
) -> Response:
    """Record an objection (rate-limited per address, like the API)."""
    form, language = await forms.read(request), portal_language(request)
    data = {"text": form.values.get("text", ""), "contact": form.values.get("contact") or None}
    body = forms.validate(form, ObjectionCreate, data, language)
    if body is None:
        return await _page(request, session, form, application_id, 422)
    address = current_client_address.get() or "unknown"
    limit = ratelimit.Limit(
        ratelimit.key_for("objection", "address", address),
        settings.rate_limit_objection_per_address,
    )
    try:
        await ratelimit.check(database, [limit], window_seconds=settings.rate_limit_window_seconds)
        await forms.attempt(
            session,
            lambda: publicity.object_to(
                session, application_id, body, now=utcnow(), address=address
            ),
        )
    except RateLimited as refused:
        form.problem = forms.problem_message(language, refused)
        return await _page(request, session, form, application_id, 429)
    except forms.Refused as refused:
        if isinstance(refused.reason, NotFound):
            raise refused.reason from None  # not in publicity (or no such award): as the API
        form.problem = forms.problem_message(language, refused.reason)
        return await _page(request, session, form, application_id, 422)
    message = Flash(
        N_("Your objection is recorded. The reviewers read every objection before deciding.")
    )
    return redirect(request, PAGE, message)
