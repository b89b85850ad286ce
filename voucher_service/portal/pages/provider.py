"""The provider's pages: its dashboard and its API credentials (create, rotate, revoke).

Operators only, like ``/v1/provider/api-clients``; a secret is shown once, on the page the
browser is sent to right after the action (then it is gone).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

from providers.clients.models import ApiClient, AuthMethod, ClientStatus
from providers.clients.scopes import PROVIDER_SCOPES
from providers.webhooks import endpoints
from providers.webhooks.history import notices_query
from voucher_service.auth.dependencies import ProviderOperator
from voucher_service.auth.pepper import PepperDep
from voucher_service.clients import service as credentials
from voucher_service.clients.dependencies import OwnClient
from voucher_service.clients.schemas import ApiClientCreate
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.kit.i18n import Language
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash, Secret
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.pages.provider_redemptions import redemption_figures
from voucher_service.portal.pages.provider_settlements import awaiting_response
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.webhooks import service as webhooks

router = portal_router("/provider")
CREDENTIALS = "/portal/provider/credentials"
SECRET_HINT = N_(
    "Copy it into your secret manager now: it is shown only this once. If it is lost, rotate "
    "the credential to get a new one."
)


@router.get("")
async def dashboard(request: Request, principal: ProviderOperator, session: SessionDep) -> Response:
    provider_id = principal.organisation_id
    clients = await credentials.list_for_provider(session, provider_id)
    stats = await webhooks.delivery_metrics(session, provider_id)
    notices = (await session.scalars(notices_query(provider_id).limit(5))).all()
    context = {
        "organisation": await session.get(Organisation, provider_id),
        "active_clients": sum(1 for c in clients if c.status == ClientStatus.active),
        "endpoint": await endpoints.find_endpoint(session, provider_id),
        "counts": stats[0].counts if stats else None,
        "notices": notices,
        **await redemption_figures(session, provider_id),
        "to_answer": await awaiting_response(session, provider_id),
    }
    return render(request, "provider/dashboard.html", context)


async def _credentials_page(
    request: Request,
    session: SessionDep,
    principal: ProviderOperator,
    form: Form,
    status: int = 200,
) -> Response:
    form.values.setdefault("auth_method", AuthMethod.client_secret.value)
    form.values.setdefault("scopes", list(PROVIDER_SCOPES))
    context = {
        "clients": await credentials.list_for_provider(session, principal.organisation_id),
        "scopes": list(PROVIDER_SCOPES),
        "form": form,
    }
    return render(request, "provider/credentials.html", context, status=status)


@router.get("/credentials")
async def credential_list(
    request: Request, principal: ProviderOperator, session: SessionDep
) -> Response:
    return await _credentials_page(request, session, principal, Form())


def _jwk(form: Form, language: Language, field: str = "public_jwk") -> dict[str, Any] | None:
    """The pasted public JWK, or None (with a field error if it is not a JSON object)."""
    raw = form.values.get(field) or ""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        form.errors[field] = translate(language, N_("Paste the public key as a JSON object (JWK)."))
        return None
    return value


@router.post("/credentials")
async def create_credential(
    request: Request, principal: ProviderOperator, session: SessionDep, pepper: PepperDep
) -> Response:
    """Create a credential (the same service as ``POST /v1/provider/api-clients``)."""
    form = await forms.read(request, lists=("scopes",))
    language = portal_language(request)
    data = {
        "name": form.values.get("name", ""),
        "auth_method": form.values.get("auth_method") or AuthMethod.client_secret,
        "scopes": form.values["scopes"],
        "public_jwk": _jwk(form, language),
    }
    body = forms.validate(form, ApiClientCreate, data, language)
    if not data["scopes"]:
        form.errors["scopes"] = translate(language, N_("Choose at least one scope."))
    if body is None or form.invalid:
        return await _credentials_page(request, session, principal, form, status=422)
    try:
        issued = await forms.attempt(
            session,
            lambda: credentials.create(
                session,
                principal,
                name=body.name,
                auth_method=body.auth_method,
                pepper=pepper,
                scopes=body.scopes,
                public_jwk=body.public_jwk,
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language)
        return await _credentials_page(request, session, principal, form, status=422)
    return redirect(
        request, CREDENTIALS, _issued(issued.client, issued.client_secret, created=True)
    )


def _issued(client: ApiClient, secret: str | None, *, created: bool) -> Flash:
    message = (
        N_("Credential %(name)s is created.") if created else N_("Credential %(name)s is rotated.")
    )
    shown = (
        Secret(label=N_("Client secret of %(client_id)s"), value=secret, hint=SECRET_HINT)
        if secret
        else None
    )
    return Flash(message, params={"name": client.name, "client_id": client.client_id}, secret=shown)


@router.post("/credentials/{client_pk}/rotate")
async def rotate_credential(
    request: Request,
    principal: ProviderOperator,
    client: OwnClient,
    session: SessionDep,
    settings: SettingsDep,
    pepper: PepperDep,
) -> Response:
    """A new secret (shown once) or key; the old one works for the grace period."""
    form, language = await forms.read(request), portal_language(request)
    public_jwk = _jwk(form, language)
    if form.invalid:
        return await _credentials_page(request, session, principal, form, status=422)
    try:
        issued = await forms.attempt(
            session,
            lambda: credentials.rotate(
                session, settings, principal, client, pepper=pepper, public_jwk=public_jwk
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language)
        return await _credentials_page(request, session, principal, form, status=422)
    return redirect(request, CREDENTIALS, _issued(client, issued.client_secret, created=False))


@router.post("/credentials/{client_pk}/revoke")
async def revoke_credential(
    request: Request, principal: ProviderOperator, client: OwnClient, session: SessionDep
) -> Response:
    """Revoke at once: no new tokens, and issued ones stop working."""
    try:
        await forms.attempt(session, lambda: credentials.revoke(session, principal, client))
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        return await _credentials_page(request, session, principal, form, status=422)
    message = Flash(N_("Credential %(name)s is revoked."), params={"name": client.name})
    return redirect(request, CREDENTIALS, message)
