"""My account: who I am, and changing my password (every other session of mine ends)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from voucher_service.auth import limits
from voucher_service.auth import service as auth
from voucher_service.auth.dependencies import CurrentUser
from voucher_service.auth.errors import InvalidCredentials, RateLimited, WeakPassword
from voucher_service.dependencies import DatabaseDep, KeyRingDep, SessionDep, SettingsDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import csrf, forms
from voucher_service.portal.auth import set_session_cookie
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.pages.public import PASSWORDS_DIFFER
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.users.models import User

router = portal_router("/account")
PASSWORD_PROBLEMS = {InvalidCredentials: "current_password", WeakPassword: "new_password"}


async def _page(
    request: Request, session: SessionDep, principal: CurrentUser, form: Form, status: int = 200
) -> Response:
    user = await session.get(User, principal.id)
    organisation = await session.get(Organisation, principal.organisation_id)
    context = {"user": user, "organisation": organisation, "form": form}
    return render(request, "account/account.html", context, status=status)


@router.get("")
async def account(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    return await _page(request, session, principal, Form())


@router.post("/password")
async def change_password(
    request: Request,
    principal: CurrentUser,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
) -> Response:
    """The same service as ``POST /v1/auth/password``; this browser gets a new session."""
    form, language = await forms.read(request), portal_language(request)
    current, new = form.values.get("current_password", ""), form.values.get("new_password", "")
    if not current:
        form.errors["current_password"] = translate(language, N_("Enter a value."))
    if new != form.values.get("password_confirm"):
        form.errors["password_confirm"] = translate(language, PASSWORDS_DIFFER)
    if form.invalid:
        return await _page(request, session, principal, form, status=422)
    client = auth.Client(limits.client_address(), request.headers.get("user-agent"), browser=True)
    try:
        await limits.limit_account(database, settings, principal.label)
        async with database.unit_of_work() as work:
            outcome = await auth.change_password(
                work,
                settings,
                keyring,
                principal,
                current_password=current,
                new_password=new,
                client=client,
            )
    except (RateLimited, WeakPassword) as exc:
        forms.place(form, exc, language, PASSWORD_PROBLEMS)
        return await _page(request, session, principal, form, status=422)
    if outcome.browser is None:
        forms.place(form, outcome.refusal or InvalidCredentials(), language, PASSWORD_PROBLEMS)
        return await _page(request, session, principal, form, status=422)
    csrf.renew(request)
    message = Flash(N_("Your password is changed. Every other session of yours has ended."))
    response = redirect(request, "/portal/account", message)
    set_session_cookie(response, outcome.browser)
    return response
