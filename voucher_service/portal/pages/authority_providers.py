"""The provider registry for the authority (``/v1/admin/providers``' rules and services): every
provider and its state (proposed → publicity → approved ⇄ suspended), registering one, moving it
on, suspending it (no voucher can be redeemed with it from that moment) and reinstating it, and
its catalogue: what it sells, with the most each programme reimburses per unit.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from providers.registry import service as registry
from providers.registry.errors import FilingNumberRequired
from providers.registry.models import ProviderProfile, ProviderState
from voucher_service.auth.dependencies import AuthorityUser, ProgramAdmin
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.errors import CreditCodeTaken, InvalidCreditCode
from voucher_service.portal import forms, labels
from voucher_service.portal.confirm import confirmed_reason
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs.models import PriceCeiling, Program, ProgramProvider
from voucher_service.provider_registry import service
from voucher_service.provider_registry.schemas import (
    ProviderRegistration,
    ProviderUpdate,
    PublicityStart,
    Reason,
)

router = portal_router("/authority/providers")
PROVIDERS = "/portal/authority/providers"
Text = Annotated[str, Query(max_length=100)]
SERVICES = labels.choices("service_kind")


async def registered_provider(
    _principal: AuthorityUser, session: SessionDep, provider_id: Annotated[uuid.UUID, Path()]
) -> ProviderProfile:
    """A provider's registry entry, for authority users (ProviderNotFound, a 404, if none)."""
    return await registry.require_profile(session, provider_id)


Provider = Annotated[ProviderProfile, Depends(registered_provider)]


async def _list_page(
    request: Request, session: AsyncSession, form: Form, new: Form, cursor: str, status: int = 200
) -> Response:
    language = portal_language(request)
    state = form.values.get("state", "")
    if state and state not in set(ProviderState):
        form.errors["state"] = translate(language, N_("Choose one of the options."))
    query = select(ProviderProfile)
    if state and not form.errors:
        query = query.where(col(ProviderProfile.state) == state)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, ProviderProfile.organisation_id, cursor
    )
    context = {
        "providers": await service.present_admin(session, rows),
        "next_cursor": next_cursor,
        "states": labels.choices("registry_state"),
        "services": SERVICES,
        "can_change": request.state.principal.role in roles_of(ProgramAdmin),
        "form": form,
        "new": new,
    }
    status = 422 if form.errors else status
    return render(request, "authority/providers.html", context, status=status)


@router.get("")
async def provider_list(
    request: Request,
    _principal: AuthorityUser,
    session: SessionDep,
    state: Text = "",
    cursor: Text = "",
) -> Response:
    """Every registered provider, by state."""
    return await _list_page(request, session, Form({"state": state}), Form(prefix="new"), cursor)


def _optional(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: values.get(name) or None for name in names}


@router.post("")
async def register(request: Request, principal: ProgramAdmin, session: SessionDep) -> Response:
    """Register a new provider organisation, proposed (``POST /v1/admin/providers``)."""
    new, language = await forms.read(request, lists=("services",)), portal_language(request)
    new.prefix = "new"
    data = _optional(new.values, "name", "credit_code", "contact_email", "filing_number")
    data["services"] = new.values["services"]
    body = forms.validate(new, ProviderRegistration, data, language)
    if body is None:
        return await _list_page(request, session, Form(), new, "", status=422)
    try:
        profile = await forms.attempt(
            session, lambda: service.register(session, body, actor=principal)
        )
    except forms.Refused as refused:
        fields: dict[type[Exception], str] = {
            InvalidCreditCode: "credit_code",
            CreditCodeTaken: "credit_code",
        }
        forms.place(new, refused.reason, language, fields)
        return await _list_page(request, session, Form(), new, "", status=422)
    return redirect(
        request,
        f"{PROVIDERS}/{profile.organisation_id}",
        Flash(N_("%(name)s is registered."), params={"name": body.name or ""}),
    )


async def _ceilings(
    session: AsyncSession, provider_id: uuid.UUID
) -> dict[tuple[str, str], list[tuple[Program, int]]]:
    """The most each programme listing the provider reimburses per resource and unit."""
    rows = await session.execute(
        select(Program, PriceCeiling)
        .join(ProgramProvider, col(ProgramProvider.program_id) == col(Program.id))
        .join(PriceCeiling, col(PriceCeiling.program_id) == col(Program.id))
        .where(col(ProgramProvider.provider_id) == provider_id)
        .order_by(col(Program.id))
    )
    found: dict[tuple[str, str], list[tuple[Program, int]]] = {}
    for program, ceiling in rows.all():
        key = (ceiling.resource, ceiling.unit)
        found.setdefault(key, []).append((program, ceiling.max_unit_price_amount))
    return found


async def provider_page(
    request: Request,
    session: AsyncSession,
    profile: ProviderProfile,
    *,
    shown: dict[str, Form] | None = None,
    status: int = 200,
) -> Response:
    """One provider: its entry, the next steps, its catalogue and the programmes' ceilings."""
    entry = (await service.present_admin(session, [profile]))[0]
    details = Form(
        {"services": list(profile.services), "filing_number": profile.filing_number or ""},
        prefix="details",
    )
    shown_forms = {
        "details": details,
        "publicity": Form({"days": "7"}, prefix="publicity"),
        "approve": Form(prefix="approve"),
        "state": Form(prefix="state"),
        "item": Form(prefix="item"),
        **(shown or {}),
    }
    context = {
        "p": entry,
        "items": entry.catalogue,
        "ceilings": await _ceilings(session, profile.organisation_id),
        "services": SERVICES,
        "can_change": request.state.principal.role in roles_of(ProgramAdmin),
        "forms": shown_forms,
    }
    return render(request, "authority/provider.html", context, status=status)


@router.get("/{provider_id}")
async def provider_detail(request: Request, profile: Provider, session: SessionDep) -> Response:
    return await provider_page(request, session, profile)


async def refused_or_done(
    request: Request,
    session: AsyncSession,
    profile: ProviderProfile,
    form: Form,
    name: str,
    action: Any,
    done: str,
    fields: dict[type[Exception], str] | None = None,
) -> Response:
    """Run ``action`` in a savepoint; a refusal shows the page again with the reason on ``form``."""
    try:
        await forms.attempt(session, action)
    except forms.Refused as refused:
        forms.place(form, refused.reason, portal_language(request), fields)
        await session.refresh(profile)
        return await provider_page(request, session, profile, shown={name: form}, status=422)
    return redirect(request, f"{PROVIDERS}/{profile.organisation_id}", Flash(done))


async def _change(
    session: AsyncSession, change: registry.Change, principal: ProgramAdmin
) -> ProviderProfile:
    return await service.record(session, change, actor=principal)


@router.post("/{provider_id}/details")
async def update_details(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """What it sells and its filing number (备案号) (``PATCH /v1/admin/providers/{id}``)."""
    form, language = await forms.read(request, lists=("services",)), portal_language(request)
    form.prefix = "details"
    data = {"services": form.values["services"], **_optional(form.values, "filing_number")}
    body = forms.validate(form, ProviderUpdate, data, language)
    if body is None:
        return await provider_page(request, session, profile, shown={"details": form}, status=422)
    provider_id = profile.organisation_id

    async def action() -> ProviderProfile:
        change = await registry.update_details(
            session, provider_id, services=body.services, filing_number=body.filing_number
        )
        return await _change(session, change, principal)

    return await refused_or_done(
        request,
        session,
        profile,
        form,
        "details",
        action,
        N_("The provider's details are saved."),
        {FilingNumberRequired: "filing_number"},
    )


@router.post("/{provider_id}/publicity")
async def start_publicity(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """List it publicly for objections (公示) for some days (``.../publicity``)."""
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "publicity"
    body = forms.validate(form, PublicityStart, {"days": form.values.get("days")}, language)
    if body is None:
        return await provider_page(request, session, profile, shown={"publicity": form}, status=422)
    provider_id = profile.organisation_id

    async def action() -> ProviderProfile:
        change = await registry.start_publicity(session, provider_id, days=body.days)
        return await _change(session, change, principal)

    done = N_("The provider is listed publicly for objections.")
    return await refused_or_done(request, session, profile, form, "publicity", action, done)


@router.post("/{provider_id}/approve")
async def approve(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """Approve after its publicity (``.../approve``)."""
    provider_id = profile.organisation_id

    async def action() -> ProviderProfile:
        return await _change(session, await registry.approve(session, provider_id), principal)

    done = N_("The provider is approved: vouchers may be redeemed with it.")
    form = Form(prefix="approve")
    return await refused_or_done(request, session, profile, form, "approve", action, done)


async def _suspension(
    request: Request,
    session: AsyncSession,
    profile: ProviderProfile,
    principal: ProgramAdmin,
    suspend: bool,
) -> Response:
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "state"
    form.values["action"] = "suspend" if suspend else "reinstate"
    reason = confirmed_reason(form, Reason, language)
    if reason is None:
        return await provider_page(request, session, profile, shown={"state": form}, status=422)
    provider_id, change = (
        profile.organisation_id,
        registry.suspend if suspend else registry.reinstate,
    )

    async def action() -> ProviderProfile:
        return await _change(session, await change(session, provider_id, reason=reason), principal)

    done = (
        N_("The provider is suspended: no voucher can be redeemed with it.")
        if suspend
        else N_("The provider is reinstated.")
    )
    return await refused_or_done(request, session, profile, form, "state", action, done)


@router.post("/{provider_id}/suspend")
async def suspend(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """Suspend (``.../suspend``): redemption with it stops at once."""
    return await _suspension(request, session, profile, principal, suspend=True)


@router.post("/{provider_id}/reinstate")
async def reinstate(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """Lift a suspension (``.../reinstate``)."""
    return await _suspension(request, session, profile, principal, suspend=False)
