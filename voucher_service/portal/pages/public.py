"""Public pages: sign in and out, enterprise registration, setting a password from a link."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from voucher_service.auth import limits
from voucher_service.auth import service as auth
from voucher_service.auth.dependencies import CurrentUser
from voucher_service.auth.errors import InvalidCredentials, RateLimited, WeakPassword
from voucher_service.auth.registration import register_enterprise
from voucher_service.auth.schemas import Registration
from voucher_service.dependencies import DatabaseDep, KeyRingDep, SessionDep, SettingsDep
from voucher_service.organisations.errors import CreditCodeTaken, InvalidCreditCode
from voucher_service.portal import csrf, forms, labels
from voucher_service.portal.auth import Viewer, clear_session_cookie, set_session_cookie
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import home_for_role
from voucher_service.portal.routing import portal_router, safe_next
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.users import service as users
from voucher_service.users.errors import EmailTaken

router = portal_router()

REGISTRATION_FIELDS: dict[tuple[str | int, ...], str] = {
    ("organisation", "name"): "name",
    ("organisation", "credit_code"): "credit_code",
    ("organisation", "founded_on"): "founded_on",
    ("organisation", "size"): "size",
    ("organisation", "industry"): "industry",
    ("organisation", "contact_email"): "contact_email",
    ("owner", "name"): "owner_name",
    ("owner", "email"): "email",
    ("owner", "password"): "password",
}
REGISTRATION_PROBLEMS: dict[type[Exception], str] = {
    InvalidCreditCode: "credit_code",
    CreditCodeTaken: "credit_code",
    EmailTaken: "email",
    WeakPassword: "password",
}
PASSWORDS_DIFFER = N_("The two passwords are not the same.")


def _login_page(request: Request, form: Form, viewer: object = None, status: int = 200) -> Response:
    return render(request, "public/login.html", {"form": form, "viewer": viewer}, status=status)


@router.get("/login")
async def login_page(
    request: Request,
    viewer: Viewer,
    next: Annotated[str | None, Query(max_length=500)] = None,
    ended: Annotated[bool, Query()] = False,
) -> Response:
    form = Form({"next": safe_next(next) if next else ""})
    if ended:
        form.problem = translate(
            portal_language(request), N_("Your session has ended. Please sign in again.")
        )
    return _login_page(request, form, viewer)


@router.post("/login")
async def login(
    request: Request, database: DatabaseDep, settings: SettingsDep, keyring: KeyRingDep
) -> Response:
    """Sign in through the same service as ``POST /v1/auth/token``: lockout, limits, audit."""
    form, language = await forms.read(request), portal_language(request)
    email, password = form.values.get("email", ""), form.values.get("password", "")
    for name, value in (("email", email), ("password", password)):
        if not value:
            form.errors[name] = translate(language, N_("Enter a value."))
    if form.invalid:
        return _login_page(request, form, status=422)
    try:
        await limits.limit_address(database, settings)
        await limits.limit_account(database, settings, email)
    except RateLimited as exc:
        form.problem = forms.problem_message(language, exc)
        return _login_page(request, form, status=429)
    client = auth.Client(limits.client_address(), request.headers.get("user-agent"), browser=True)
    async with database.unit_of_work() as session:
        outcome = await auth.login(
            session, settings, keyring, email=email, password=password, client=client
        )
        user = await users.get_by_email(session, email)
    if outcome.refusal is not None or outcome.browser is None or user is None:
        form.problem = forms.problem_message(language, outcome.refusal or InvalidCredentials())
        return _login_page(request, form, status=422)
    csrf.renew(request)
    target = safe_next(form.values.get("next"), default=home_for_role(user.role))
    response = redirect(request, target)
    set_session_cookie(response, outcome.browser)
    return response


@router.post("/logout")
async def logout(request: Request, principal: CurrentUser, session: SessionDep) -> Response:
    """End this portal session at once (the same service as ``POST /v1/auth/logout``)."""
    await auth.logout(session, principal)
    csrf.renew(request)
    response = redirect(request, "/portal/login", Flash(N_("You have signed out.")))
    clear_session_cookie(response)
    return response


def _register_page(request: Request, form: Form, status: int = 200) -> Response:
    context = {"form": form, "sizes": labels.choices("size")}
    return render(request, "public/register.html", context, status=status)


@router.get("/register")
async def register_page(request: Request, _viewer: Viewer) -> Response:
    return _register_page(request, Form())


def _registration_data(values: dict[str, str]) -> dict[str, object]:
    def optional(name: str) -> str | None:
        return values.get(name) or None

    return {
        "organisation": {
            "name": values.get("name", ""),
            "credit_code": values.get("credit_code", ""),
            "founded_on": optional("founded_on"),
            "size": optional("size"),
            "industry": optional("industry"),
            "contact_email": optional("contact_email"),
        },
        "owner": {
            "email": values.get("email", ""),
            "name": values.get("owner_name", ""),
            "password": values.get("password", ""),
        },
    }


@router.post("/register")
async def register(
    request: Request, session: SessionDep, database: DatabaseDep, settings: SettingsDep
) -> Response:
    """Register an enterprise and its owner (the same service as ``POST /v1/auth/register``)."""
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(
        form, Registration, _registration_data(form.values), language, REGISTRATION_FIELDS
    )
    if form.values.get("password") != form.values.get("password_confirm"):
        form.errors.setdefault("password_confirm", translate(language, PASSWORDS_DIFFER))
    if body is None or form.invalid:
        return _register_page(request, form, status=422)
    try:
        await limits.limit_address(database, settings)
    except RateLimited as exc:
        form.problem = forms.problem_message(language, exc)
        return _register_page(request, form, status=429)
    try:
        await forms.attempt(session, lambda: register_enterprise(session, settings, body))
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, REGISTRATION_PROBLEMS)
        return _register_page(request, form, status=422)
    message = Flash(
        N_("%(name)s is registered. Sign in with %(email)s and your password."),
        params={"name": body.organisation.name, "email": body.owner.email},
    )
    return redirect(request, "/portal/login", message)


def _password_page(request: Request, form: Form, status: int = 200) -> Response:
    return render(request, "public/password.html", {"form": form}, status=status)


@router.get("/password")
async def password_page(
    request: Request, _viewer: Viewer, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return _password_page(request, Form({"token": token}))


@router.post("/password")
async def set_password(request: Request, database: DatabaseDep, settings: SettingsDep) -> Response:
    """Accept an invitation or a reset link (the same service as ``/v1/auth/password-token``)."""
    form, language = await forms.read(request), portal_language(request)
    token, password = form.values.get("token", ""), form.values.get("password", "")
    if not password:
        form.errors["password"] = translate(language, N_("Enter a value."))
    elif password != form.values.get("password_confirm"):
        form.errors["password_confirm"] = translate(language, PASSWORDS_DIFFER)
    if form.invalid:
        return _password_page(request, form, status=422)
    try:
        await limits.limit_address(database, settings)
        async with database.unit_of_work() as session:
            outcome = await auth.use_password_token(
                session, settings, token=token, new_password=password
            )
    except (RateLimited, WeakPassword) as exc:
        forms.place(form, exc, language, {WeakPassword: "password"})
        return _password_page(request, form, status=429 if isinstance(exc, RateLimited) else 422)
    if outcome.refusal is not None:
        form.problem = forms.problem_message(language, outcome.refusal)
        return _password_page(request, form, status=422)
    return redirect(
        request, "/portal/login", Flash(N_("Your password is set. Sign in with it now."))
    )
