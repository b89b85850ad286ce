"""Organisation administration (``/v1/admin/organisations``' rules): every authority user reads,
program admins and sysadmins register organisations, program admins suspend and reactivate, and
system administrators add users to an organisation (``POST /v1/admin/users``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import AuthorityUser, ProgramAdmin, SysAdmin
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.organisations import repository
from voucher_service.organisations import service as organisations
from voucher_service.organisations.dependencies import (
    OrganisationForAuthority,
    OrganisationRegistrar,
)
from voucher_service.organisations.errors import CreditCodeTaken, InvalidCreditCode
from voucher_service.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from voucher_service.organisations.schemas import OrganisationCreate, StatusChange
from voucher_service.portal import forms, labels
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.pages.enterprise import link_secret, password_link
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import local_time, portal_language, redirect, render
from voucher_service.users import service as users
from voucher_service.users.dependencies import UserReader
from voucher_service.users.errors import EmailTaken, RoleNotAllowed
from voucher_service.users.models import ROLES_BY_KIND, User
from voucher_service.users.schemas import UserCreate

router = portal_router("/authority/organisations")
ORGANISATIONS = "/portal/authority/organisations"
NEW_PREFIX = "new"  # the registration form's ids, apart from the filter form's
Text = Annotated[str, Query(max_length=100)]


async def _list_page(
    request: Request,
    session: SessionDep,
    form: Form,
    new: Form,
    cursor: str = "",
    status: int = 200,
) -> Response:
    language = portal_language(request)
    kind, state = form.values.get("kind", ""), form.values.get("status", "")
    for name, value, allowed in (
        ("kind", kind, set(OrganisationKind)),
        ("status", state, set(OrganisationStatus)),
    ):
        if value and value not in allowed:
            form.errors[name] = translate(language, N_("Choose one of the options."))
    query = repository.list_query(
        kind=kind or None,
        status=state or None,
        credit_code=form.values.get("credit_code") or None,
    )
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, Organisation.id, cursor
    )
    principal = request.state.principal
    context = {
        "organisations": rows,
        "next_cursor": next_cursor,
        "kinds": labels.choices("org_kind"),
        "statuses": labels.choices("org_status"),
        "sizes": labels.choices("size"),
        "can_register": principal.role in roles_of(OrganisationRegistrar),
        "form": form,
        "new": new,
    }
    status = 422 if form.errors else status
    return render(request, "authority/organisations.html", context, status=status)


@router.get("")
async def organisation_list(
    request: Request,
    _principal: AuthorityUser,
    session: SessionDep,
    kind: Text = "",
    status: Text = "",
    credit_code: Text = "",
    cursor: Text = "",
) -> Response:
    """Every organisation, newest first, filtered by kind, state or credit code."""
    form = Form({"kind": kind, "status": status, "credit_code": credit_code})
    return await _list_page(request, session, form, Form(prefix=NEW_PREFIX), cursor)


@router.post("")
async def register_organisation(
    request: Request, principal: OrganisationRegistrar, session: SessionDep
) -> Response:
    """Register an organisation of any kind (``POST /v1/admin/organisations``)."""
    new, language = await forms.read(request), portal_language(request)
    new.prefix = NEW_PREFIX
    data = {name: value or None for name, value in new.values.items()}
    data["allow_legacy_credit_code"] = new.values.get("allow_legacy_credit_code") == "true"
    body = forms.validate(new, OrganisationCreate, data, language)
    if body is None:
        return await _list_page(request, session, Form(), new, status=422)
    try:
        organisation = await forms.attempt(
            session,
            lambda: organisations.create_organisation(
                session,
                kind=body.kind,
                name=body.name,
                actor=principal,
                credit_code=body.credit_code,
                allow_legacy_code=body.allow_legacy_credit_code,
                founded_on=body.founded_on,
                size=body.size,
                industry=body.industry,
                contact_email=body.contact_email,
            ),
        )
    except forms.Refused as refused:
        problems: dict[type[Exception], str] = {
            InvalidCreditCode: "credit_code",
            CreditCodeTaken: "credit_code",
        }
        forms.place(new, refused.reason, language, problems)
        return await _list_page(request, session, Form(), new, status=422)
    message = Flash(N_("%(name)s is registered."), params={"name": organisation.name})
    return redirect(request, f"{ORGANISATIONS}/{organisation.id}", message)


async def organisation_page(
    request: Request,
    session: SessionDep,
    organisation: Organisation,
    *,
    user_form: Form | None = None,
    status_form: Form | None = None,
    status: int = 200,
) -> Response:
    """One organisation: its facts, and (for those who may) its users and the actions."""
    principal = request.state.principal
    members = None
    if principal.role in roles_of(UserReader):
        rows = await session.scalars(
            select(User).where(col(User.organisation_id) == organisation.id).order_by(col(User.id))
        )
        members = rows.all()
    context = {
        "organisation": organisation,
        "members": members,
        "roles": sorted(ROLES_BY_KIND[OrganisationKind(organisation.kind)]),
        "can_add_users": principal.role in roles_of(SysAdmin),
        "can_change_status": principal.role in roles_of(ProgramAdmin),
        "user_form": user_form or Form(),
        "status_form": status_form or Form(),
    }
    return render(request, "authority/organisation.html", context, status=status)


@router.get("/{organisation_id}")
async def organisation_detail(
    request: Request, organisation: OrganisationForAuthority, session: SessionDep
) -> Response:
    return await organisation_page(request, session, organisation)


@router.post("/{organisation_id}/users")
async def add_user(
    request: Request,
    principal: SysAdmin,
    organisation: OrganisationForAuthority,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Add a user (``POST /v1/admin/users``): invited, with a set-up link shown once."""
    form, language = await forms.read(request), portal_language(request)
    data = {**form.values, "organisation_id": str(organisation.id)}
    body = forms.validate(form, UserCreate, data, language)
    if body is None:
        return await organisation_page(request, session, organisation, user_form=form, status=422)
    try:
        user, token = await forms.attempt(
            session,
            lambda: users.invite_user(
                session,
                settings,
                organisation=organisation,
                email=body.email,
                name=body.name,
                role=body.role,
                actor=principal,
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, {EmailTaken: "email", RoleNotAllowed: "role"})
        return await organisation_page(request, session, organisation, user_form=form, status=422)
    message = Flash(
        N_("%(email)s is created and sets a password with the link below."),
        params={"email": user.email, "expires": local_time(token.expires_at)},
        secret=link_secret(N_("Set-up link"), password_link(settings, token.token)),
    )
    return redirect(request, f"/portal/authority/users/{user.id}", message)


async def _change_status(
    request: Request,
    session: SessionDep,
    organisation: Organisation,
    principal: ProgramAdmin,
    suspend: bool,
) -> Response:
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(form, StatusChange, form.values, language)
    if body is None:
        return await organisation_page(request, session, organisation, status_form=form, status=422)
    change = (
        organisations.suspend_organisation if suspend else organisations.reactivate_organisation
    )
    try:
        await forms.attempt(
            session, lambda: change(session, organisation, reason=body.reason, actor=principal)
        )
    except forms.Refused as refused:
        form.problem = forms.problem_message(language, refused.reason)
        await session.refresh(organisation)
        return await organisation_page(request, session, organisation, status_form=form, status=422)
    text = N_("%(name)s is suspended.") if suspend else N_("%(name)s is active again.")
    return redirect(
        request,
        f"{ORGANISATIONS}/{organisation.id}",
        Flash(text, params={"name": organisation.name}),
    )


@router.post("/{organisation_id}/suspend")
async def suspend(
    request: Request,
    principal: ProgramAdmin,
    organisation: OrganisationForAuthority,
    session: SessionDep,
) -> Response:
    """Suspend: its users and API clients lose access at once (``.../suspend``)."""
    return await _change_status(request, session, organisation, principal, suspend=True)


@router.post("/{organisation_id}/reactivate")
async def reactivate(
    request: Request,
    principal: ProgramAdmin,
    organisation: OrganisationForAuthority,
    session: SessionDep,
) -> Response:
    """Lift a suspension (``.../reactivate``)."""
    return await _change_status(request, session, organisation, principal, suspend=False)
