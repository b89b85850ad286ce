"""User administration: system administrators manage, auditors read (``/v1/admin/users``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import SysAdmin
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms, labels
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.pages.enterprise import link_secret, password_link
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import local_time, portal_language, redirect, render
from voucher_service.users import repository
from voucher_service.users import service as users
from voucher_service.users.dependencies import UserForAdmin, UserReader
from voucher_service.users.models import Role, User, UserStatus
from voucher_service.users.schemas import Reason

router = portal_router("/authority/users")
USERS = "/portal/authority/users"
Text = Annotated[str, Query(max_length=254)]


@router.get("")
async def user_list(
    request: Request,
    _principal: UserReader,
    session: SessionDep,
    email: Text = "",
    role: Text = "",
    status: Text = "",
    organisation_id: Text = "",
    cursor: Text = "",
) -> Response:
    """Every user, newest first, filtered by e-mail, role, state or organisation."""
    language = portal_language(request)
    form = Form(
        {"email": email, "role": role, "status": status, "organisation_id": organisation_id}
    )
    organisation = forms.parse_uuid(form, "organisation_id", language)
    for name, value, allowed in (("role", role, set(Role)), ("status", status, set(UserStatus))):
        if value and value not in allowed:
            form.errors[name] = translate(language, N_("Choose one of the options."))
    query = repository.list_query(
        organisation_id=organisation,
        role=role or None,
        status=status or None,
        email=email or None,
    )
    rows, next_cursor = await forms.keyset_page(session, form, language, query, User.id, cursor)
    context = {
        "users": rows,
        "organisations": await _names(session, {u.organisation_id for u in rows}),
        "next_cursor": next_cursor,
        "roles": labels.choices("role"),
        "statuses": labels.choices("user_status"),
        "form": form,
    }
    return render(request, "authority/users.html", context, status=422 if form.errors else 200)


async def _names(session: SessionDep, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    if not ids:
        return {}
    rows = await session.scalars(select(Organisation).where(col(Organisation.id).in_(ids)))
    return {o.id: o for o in rows.all()}


async def _detail(
    request: Request, session: SessionDep, user: User, form: Form, status: int = 200
) -> Response:
    principal = request.state.principal
    context = {
        "user": user,
        "organisation": await session.get(Organisation, user.organisation_id),
        "can_manage": principal.role in roles_of(SysAdmin),
        "is_me": principal.id == user.id,
        "form": form,
    }
    return render(request, "authority/user.html", context, status=status)


@router.get("/{user_id}")
async def user_detail(request: Request, user: UserForAdmin, session: SessionDep) -> Response:
    return await _detail(request, session, user, Form())


@router.post("/{user_id}/suspend")
async def suspend(
    request: Request, principal: SysAdmin, user: UserForAdmin, session: SessionDep
) -> Response:
    """Suspend (``POST /v1/admin/users/{id}/suspend``): every session ends at once."""
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(form, Reason, form.values, language)
    if body is None:
        return await _detail(request, session, user, form, status=422)
    try:
        await forms.attempt(
            session, lambda: users.suspend_user(session, user, actor=principal, reason=body.reason)
        )
    except forms.Refused as refused:
        form.problem = forms.problem_message(language, refused.reason)
        await session.refresh(user)
        return await _detail(request, session, user, form, status=422)
    message = Flash(N_("%(email)s is suspended."), params={"email": user.email})
    return redirect(request, f"{USERS}/{user.id}", message)


@router.post("/{user_id}/reactivate")
async def reactivate(
    request: Request, principal: SysAdmin, user: UserForAdmin, session: SessionDep
) -> Response:
    """Lift a suspension (``POST /v1/admin/users/{id}/reactivate``)."""
    try:
        await forms.attempt(session, lambda: users.reactivate_user(session, user, actor=principal))
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        await session.refresh(user)
        return await _detail(request, session, user, form, status=422)
    message = Flash(N_("%(email)s is active again."), params={"email": user.email})
    return redirect(request, f"{USERS}/{user.id}", message)


@router.post("/{user_id}/password-reset")
async def reset_password(
    request: Request,
    principal: SysAdmin,
    user: UserForAdmin,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Reset (``POST /v1/admin/users/{id}/password-reset``): sessions end; a link shown once."""
    try:
        token = await forms.attempt(
            session, lambda: users.reset_password(session, settings, user, actor=principal)
        )
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        await session.refresh(user)
        return await _detail(request, session, user, form, status=422)
    message = Flash(
        N_("The password of %(email)s is reset and every session of theirs has ended."),
        params={"email": user.email, "expires": local_time(token.expires_at)},
        secret=link_secret(N_("Password reset link"), password_link(settings, token.token)),
    )
    return redirect(request, f"{USERS}/{user.id}", message)
