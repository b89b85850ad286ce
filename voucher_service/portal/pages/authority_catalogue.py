"""A provider's catalogue for the authority (``/v1/admin/providers/{id}/catalogue``' rules and
services): add an item, change its description, list price or whether it is offered, withdraw it.
The catalogue is shown on the provider's page (``authority_providers``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.responses import Response

from providers.registry.errors import CatalogueItemConflict
from providers.registry.models import CatalogueItem, ProviderProfile
from voucher_service.auth.dependencies import ProgramAdmin
from voucher_service.dependencies import SessionDep
from voucher_service.kit.i18n import Language
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_
from voucher_service.portal.money import as_yuan_input, fen_field
from voucher_service.portal.pages.authority_providers import (
    PROVIDERS,
    Provider,
    provider_page,
    refused_or_done,
)
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.provider_registry import service
from voucher_service.provider_registry.schemas import CatalogueItemCreate, CatalogueItemUpdate

router = portal_router("/authority/providers")
PRICE_FIELD: dict[tuple[str | int, ...], str] = {("list_price_amount",): "list_price"}


def _item_data(form: Form, language: Language, *names: str) -> dict[str, Any]:
    """The catalogue fields of ``form``, the list price typed in yuan and kept in fen."""
    data = {name: form.values.get(name, "") for name in names}
    data["list_price_amount"] = fen_field(
        form.values,
        form.errors,
        "list_price",
        language,
    )
    return data


@router.post("/{provider_id}/catalogue")
async def add_item(
    request: Request, principal: ProgramAdmin, profile: Provider, session: SessionDep
) -> Response:
    """Add a catalogue item (``POST /v1/admin/providers/{id}/catalogue``)."""
    form, language = await forms.read(request), portal_language(request)
    form.prefix = "item"
    data = _item_data(form, language, "resource", "unit", "description")
    body = forms.validate(form, CatalogueItemCreate, data, language, PRICE_FIELD)
    if body is None or form.errors:
        return await provider_page(request, session, profile, shown={"item": form}, status=422)
    provider_id = profile.organisation_id
    return await refused_or_done(
        request,
        session,
        profile,
        form,
        "item",
        lambda: service.add_catalogue_item(session, provider_id, body, actor=principal),
        N_("The item is added to the catalogue."),
        {CatalogueItemConflict: "resource"},
    )


async def provider_item(
    profile: Provider, session: SessionDep, item_id: Annotated[uuid.UUID, Path()]
) -> CatalogueItem:
    """One of the provider's catalogue items (a 404 if it is another's)."""
    return await service.catalogue_item(session, profile.organisation_id, item_id)


Item = Annotated[CatalogueItem, Depends(provider_item)]


def _item_page(
    request: Request, profile: ProviderProfile, item: CatalogueItem, form: Form, status: int = 200
) -> Response:
    context = {"provider_id": profile.organisation_id, "item": item, "form": form}
    return render(request, "authority/catalogue_item.html", context, status=status)


@router.get("/{provider_id}/catalogue/{item_id}")
async def item_detail(request: Request, profile: Provider, item: Item) -> Response:
    """Change a catalogue item: its description, list price, whether it is offered."""
    values = {
        "description": item.description,
        "list_price": as_yuan_input(item.list_price_amount),
        "active": "true" if item.active else "",
    }
    return _item_page(request, profile, item, Form(values))


@router.post("/{provider_id}/catalogue/{item_id}")
async def update_item(
    request: Request, principal: ProgramAdmin, profile: Provider, item: Item, session: SessionDep
) -> Response:
    """``PATCH /v1/admin/providers/{id}/catalogue/{item_id}``."""
    form, language = await forms.read(request), portal_language(request)
    data = _item_data(form, language, "description")
    data["active"] = form.values.get("active") == "true"
    body = forms.validate(form, CatalogueItemUpdate, data, language, PRICE_FIELD)
    if body is None or form.errors:
        return _item_page(request, profile, item, form, status=422)
    changes = body.model_dump(exclude_unset=True)
    await service.change_catalogue_item(session, item, changes, actor=principal)
    return redirect(
        request, f"{PROVIDERS}/{profile.organisation_id}", Flash(N_("The item is saved."))
    )


@router.post("/{provider_id}/catalogue/{item_id}/withdraw")
async def withdraw_item(
    request: Request, principal: ProgramAdmin, profile: Provider, item: Item, session: SessionDep
) -> Response:
    """Withdraw (``DELETE .../catalogue/{item_id}``): kept, inactive, for the record."""
    await service.withdraw_catalogue_item(session, item, actor=principal)
    return redirect(
        request,
        f"{PROVIDERS}/{profile.organisation_id}",
        Flash(N_("The item is withdrawn from the catalogue.")),
    )
