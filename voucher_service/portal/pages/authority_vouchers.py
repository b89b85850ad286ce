"""The authority's vouchers: find one by its code, see its balance, history and providers, and
freeze, unfreeze or revoke it with a reason (``/v1/admin/vouchers``' rules and services).

A mistyped code is caught by its check character and said so, before any lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import AuthorityUser, ProgramAdmin
from voucher_service.dependencies import SessionDep
from voucher_service.kit.pagination import InvalidCursor
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels
from voucher_service.portal.confirm import confirmed_reason
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.programs import service as programs
from voucher_service.vouchers import codes, lifecycle, views
from voucher_service.vouchers.dependencies import AnyVoucher
from voucher_service.vouchers.models import Voucher, VoucherState
from voucher_service.vouchers.schemas import StateChange, VoucherAdminOut

router = portal_router("/authority/vouchers")
VOUCHERS = "/portal/authority/vouchers"
Text = Annotated[str, Query(max_length=100)]
Change = Callable[..., Awaitable[Voucher]]
#: What each action does, and what it says when done.
ACTIONS: dict[str, tuple[Change, str]] = {
    "freeze": (lifecycle.freeze, N_("The voucher is frozen: no provider can redeem it.")),
    "unfreeze": (lifecycle.unfreeze, N_("The voucher may be redeemed again.")),
    "revoke": (
        lifecycle.revoke,
        N_("The voucher is revoked; its remainder went back to the programme."),
    ),
}


@router.get("")
async def voucher_search(
    request: Request,
    _principal: AuthorityUser,
    session: SessionDep,
    code: Text = "",
    state: Text = "",
    cursor: Text = "",
) -> Response:
    """Find a voucher by code (straight to it), or list the newest, by state."""
    form, language = Form({"code": code, "state": state}), portal_language(request)
    if code:
        try:
            canonical = codes.normalise(code)
        except codes.InvalidVoucherCode:
            form.errors["code"] = translate(
                language, N_("This is not a voucher code: check it for a typing mistake.")
            )
        else:
            found = await session.scalar(select(Voucher).where(col(Voucher.code) == canonical))
            if found is not None:
                return redirect(request, f"{VOUCHERS}/{found.id}")
            form.errors["code"] = translate(language, N_("No voucher has this code."))
    if state and state not in set(VoucherState):
        form.errors["state"] = translate(language, N_("Choose one of the options."))
    query = select(Voucher)
    if state and not form.errors:
        query = query.where(col(Voucher.state) == state)
    rows, next_cursor = await forms.keyset_page(session, form, language, query, Voucher.id, cursor)
    holders = await _names(session, {row.holder_id for row in rows})
    context = {
        "vouchers": rows,
        "holders": holders,
        "next_cursor": next_cursor,
        "states": labels.choices("voucher_state"),
        "form": form,
    }
    status = 422 if form.errors else 200
    return render(request, "authority/vouchers.html", context, status=status)


async def _names(session: AsyncSession, ids: set[object]) -> dict[object, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    )
    return dict(rows.all())


async def voucher_page(
    request: Request,
    session: AsyncSession,
    voucher: Voucher,
    *,
    cursor: str = "",
    action_form: Form | None = None,
    status: int = 200,
) -> Response:
    """One voucher as the authority sees it, with the actions the visitor may take."""
    shown = await views.detail(session, voucher, VoucherAdminOut)
    try:
        page = await views.movements(session, voucher, limit=50, cursor=cursor or None)
    except InvalidCursor:
        page = await views.movements(session, voucher, limit=50, cursor=None)
    principal = request.state.principal
    context = {
        "v": shown,
        "code": codes.display(shown.code),
        "program": await programs.get_program(session, voucher.program_id),
        "holder": (await _names(session, {voucher.holder_id})).get(voucher.holder_id, ""),
        "movements": page.items,
        "next_cursor": page.next_cursor,
        "actions": _actions(VoucherState(voucher.state))
        if principal.role in roles_of(ProgramAdmin)
        else [],
        "form": action_form or Form(),
    }
    return render(request, "authority/voucher.html", context, status=status)


def _actions(state: VoucherState) -> list[str]:
    """The actions the voucher's state allows (the service checks again)."""
    if state == VoucherState.frozen:
        return ["unfreeze", "revoke"]
    if state in (VoucherState.active, VoucherState.exhausted):
        return ["freeze", "revoke"]
    return []


@router.get("/{voucher_id}")
async def voucher_detail(
    request: Request,
    voucher: AnyVoucher,
    session: SessionDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return await voucher_page(request, session, voucher, cursor=cursor)


async def _act(
    request: Request, session: AsyncSession, voucher: Voucher, principal: ProgramAdmin, name: str
) -> Response:
    form, language = await forms.read(request), portal_language(request)
    form.values["action"] = name
    reason = confirmed_reason(form, StateChange, language)
    if reason is None:
        return await voucher_page(request, session, voucher, action_form=form, status=422)
    change, done = ACTIONS[name]
    try:
        await forms.attempt(
            session, lambda: change(session, voucher, reason=reason, actor=principal)
        )
    except forms.Refused as refused:
        form.problem = forms.problem_message(language, refused.reason)
        await session.refresh(voucher)
        return await voucher_page(request, session, voucher, action_form=form, status=422)
    return redirect(request, f"{VOUCHERS}/{voucher.id}", Flash(done))


@router.post("/{voucher_id}/freeze")
async def freeze(
    request: Request, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> Response:
    """Freeze (``POST /v1/admin/vouchers/{id}/freeze``): no redemption until unfrozen."""
    return await _act(request, session, voucher, principal, "freeze")


@router.post("/{voucher_id}/unfreeze")
async def unfreeze(
    request: Request, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> Response:
    """Lift a freeze (``.../unfreeze``)."""
    return await _act(request, session, voucher, principal, "unfreeze")


@router.post("/{voucher_id}/revoke")
async def revoke(
    request: Request, principal: ProgramAdmin, voucher: AnyVoucher, session: SessionDep
) -> Response:
    """Revoke for good (``.../revoke``): the remainder returns to the programme."""
    return await _act(request, session, voucher, principal, "revoke")
