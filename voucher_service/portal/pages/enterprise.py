"""The startup's pages: its dashboard and, for owners, its members (invite, suspend, reactivate).

Applications and vouchers join the navigation when their pages exist (issue 5).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from ledger.sqltypes import utcnow
from voucher_service.auth.dependencies import EnterpriseOwner, EnterpriseUser
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.notices.models import VoucherExpiryNotice
from voucher_service.organisations import service as organisations
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash, Secret
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_
from voucher_service.portal.pages.overview import enterprise_overview
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import local_time, portal_language, redirect, render
from voucher_service.settings import Settings
from voucher_service.users import service as users
from voucher_service.users.dependencies import MemberOfMyEnterprise
from voucher_service.users.errors import EmailTaken
from voucher_service.users.models import Role, User
from voucher_service.users.schemas import MemberInvite, Reason

router = portal_router("/enterprise")
MEMBERS = "/portal/enterprise/members"


def password_link(settings: Settings, token: str) -> str:
    """The link with which a person sets a password (invitation or reset)."""
    return f"{settings.base_url.rstrip('/')}/portal/password?token={token}"


def link_secret(label: str, link: str) -> Secret:
    """A password link to show once, with how to pass it on."""
    return Secret(
        label=label,
        value=link,
        hint=N_(
            "Give this link to the person yourself: it is shown only now, works once, and "
            "expires on %(expires)s."
        ),
    )


@router.get("")
async def dashboard(
    request: Request, principal: EnterpriseUser, session: SessionDep, settings: SettingsDep
) -> Response:
    organisation = await session.get(Organisation, principal.organisation_id)
    assert organisation is not None  # noqa: S101 - the principal was loaded with it
    members = await session.scalar(
        select(func.count()).select_from(User).where(col(User.organisation_id) == organisation.id)
    )
    startup = organisations.is_startup(
        organisation, on=date.today(), max_age_years=settings.startup_max_age_years
    )
    overview = await enterprise_overview(session, organisation.id)
    context = {
        "organisation": organisation,
        "startup": startup,
        "member_count": members or 0,
        "max_age_years": settings.startup_max_age_years,
        "expiring": await expiring_vouchers(session, organisation.id, overview["vouchers"]),
        **overview,
    }
    return render(request, "enterprise/dashboard.html", context)


async def expiring_vouchers(
    session: AsyncSession, organisation_id: uuid.UUID, vouchers: list[Any]
) -> list[Any]:
    """The vouchers still usable that the expiry job warned about (within 30 days of expiry),
    soonest first, with their balances now."""
    warned = set(
        await session.scalars(
            select(VoucherExpiryNotice.voucher_id).where(
                col(VoucherExpiryNotice.holder_id) == organisation_id,
                col(VoucherExpiryNotice.valid_until) > utcnow(),
            )
        )
    )
    usable = ("active", "frozen")
    found = [v for v in vouchers if v.id in warned and v.state in usable]
    return sorted(found, key=lambda v: v.valid_until)


async def _members_page(
    request: Request, session: SessionDep, principal: EnterpriseOwner, form: Form, status: int = 200
) -> Response:
    rows = await session.scalars(
        select(User)
        .where(col(User.organisation_id) == principal.organisation_id)
        .order_by(col(User.id))
    )
    context = {"members": rows.all(), "form": form, "me": principal.id}
    return render(request, "enterprise/members.html", context, status=status)


@router.get("/members")
async def members(request: Request, principal: EnterpriseOwner, session: SessionDep) -> Response:
    return await _members_page(request, session, principal, Form())


@router.post("/members")
async def invite(
    request: Request, principal: EnterpriseOwner, session: SessionDep, settings: SettingsDep
) -> Response:
    """Invite a member (the same service as ``POST /v1/organisations/me/members``)."""
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(form, MemberInvite, form.values, language)
    if body is None:
        return await _members_page(request, session, principal, form, status=422)
    organisation = await session.get(Organisation, principal.organisation_id)
    assert organisation is not None  # noqa: S101 - the principal was loaded with it
    try:
        _user, token = await forms.attempt(
            session,
            lambda: users.invite_user(
                session,
                settings,
                organisation=organisation,
                email=body.email,
                name=body.name,
                role=Role.member,
                actor=principal,
            ),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, language, {EmailTaken: "email"})
        return await _members_page(request, session, principal, form, status=422)
    message = Flash(
        N_("%(email)s is invited."),
        params={"email": body.email, "expires": local_time(token.expires_at)},
        secret=link_secret(N_("Invitation link"), password_link(settings, token.token)),
    )
    return redirect(request, MEMBERS, message)


@router.post("/members/{user_id}/suspend")
async def suspend(
    request: Request, principal: EnterpriseOwner, member: MemberOfMyEnterprise, session: SessionDep
) -> Response:
    """Suspend a member: their sessions end at once (as ``POST .../members/{id}/suspend``)."""
    form, language = await forms.read(request), portal_language(request)
    body = forms.validate(form, Reason, form.values, language)
    if body is None:
        # The reason is typed in the member's row, not in the invitation form below.
        form = Form(problem=f"{member.email}: {form.errors.get('reason', '')}")
        return await _members_page(request, session, principal, form, status=422)
    try:
        await forms.attempt(
            session,
            lambda: users.suspend_user(session, member, actor=principal, reason=body.reason),
        )
    except forms.Refused as refused:
        form.problem = forms.problem_message(language, refused.reason)
        return await _members_page(request, session, principal, form, status=422)
    message = Flash(N_("%(email)s is suspended."), params={"email": member.email})
    return redirect(request, MEMBERS, message)


@router.post("/members/{user_id}/reactivate")
async def reactivate(
    request: Request, principal: EnterpriseOwner, member: MemberOfMyEnterprise, session: SessionDep
) -> Response:
    """Lift a member's suspension (as ``POST .../members/{id}/reactivate``)."""
    try:
        await forms.attempt(
            session, lambda: users.reactivate_user(session, member, actor=principal)
        )
    except forms.Refused as refused:
        form = Form(problem=forms.problem_message(portal_language(request), refused.reason))
        return await _members_page(request, session, principal, form, status=422)
    message = Flash(N_("%(email)s is active again."), params={"email": member.email})
    return redirect(request, MEMBERS, message)
