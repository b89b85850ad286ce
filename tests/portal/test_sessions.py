"""Portal sign-in: the session cookie, and everything that ends a portal session."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from tests.factories import DEFAULT_PASSWORD, audit_events, auth_headers, create_user
from tests.portal.helpers import Browser, csrf_token, sign_in
from voucher_service.auth.dependencies import BROWSER_COOKIE
from voucher_service.auth.models import AuthSession
from voucher_service.auth.sessions import token_digest
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation, OrganisationStatus
from voucher_service.portal import csrf
from voucher_service.users.models import Role, User


async def portal_login(
    app: FastAPI, client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    """POST /portal/login as a browser would: CSRF cookie first, then the form."""
    await client.get("/portal/login")
    token = csrf.token_for(app.state.csrf_key, client.cookies[csrf.COOKIE_NAME])
    form = {"email": email, "password": password, csrf.FIELD_NAME: token}
    return await client.post("/portal/login", data=form)


async def test_signing_in_sets_an_opaque_httponly_secure_lax_cookie_stored_hashed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session, role=Role.owner)
    response = await portal_login(app, client, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/enterprise"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(BROWSER_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Max-Age" not in cookie  # gone when the browser closes
    token = client.cookies[BROWSER_COOKIE]
    stored = await session.scalar(select(AuthSession).where(col(AuthSession.user_id) == user.id))
    assert stored is not None
    assert stored.browser_token_hash == token_digest(token) != token
    (event,) = await audit_events(database, "auth.login.succeeded")
    assert event.after_json is not None
    assert '"portal"' in event.after_json
    page = await client.get("/portal/enterprise")
    assert page.status_code == 200
    assert user.email in page.text


async def test_a_wrong_password_shows_the_form_again_and_counts_towards_the_lockout(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    response = await portal_login(app, client, user.email, "Wrong-Password-1")
    assert response.status_code == 422
    assert "邮箱或密码错误" in response.text
    assert f'value="{user.email}"' in response.text
    assert "Wrong-Password-1" not in response.text
    assert BROWSER_COOKIE not in client.cookies
    await session.refresh(user)
    assert user.failed_login_count == 1
    assert len(await audit_events(database, "auth.login.failed")) == 1


async def test_the_portal_uses_the_api_lockout(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    threshold = app.state.settings.login_lockout_threshold
    for _ in range(threshold):
        await portal_login(app, client, user.email, "Wrong-Password-1")
    locked = await portal_login(app, client, user.email)
    assert locked.status_code == 422


async def test_sign_in_is_rate_limited_like_the_api(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    app.state.settings.rate_limit_login_per_account = 2
    user = await create_user(session)
    for _ in range(2):
        await portal_login(app, client, user.email, "Wrong-Password-1")
    limited = await portal_login(app, client, user.email)
    assert limited.status_code == 429
    assert "请求过于频繁" in limited.text


async def test_a_page_without_a_session_sends_the_browser_to_sign_in_and_back(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/portal/enterprise/members?x=1")
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "/portal/login?next=%2Fportal%2Fenterprise%2Fmembers%3Fx%3D1"
    )


async def test_signing_in_returns_to_the_page_asked_for_but_never_off_site(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session, role=Role.owner)
    for asked, landed in (
        ("/portal/account", "/portal/account"),
        ("https://evil.example/", "/portal/enterprise"),
        ("//evil.example/portal", "/portal/enterprise"),
    ):
        await client.get("/portal/login")
        token = csrf.token_for(app.state.csrf_key, client.cookies[csrf.COOKIE_NAME])
        form = {"email": user.email, "password": DEFAULT_PASSWORD, csrf.FIELD_NAME: token}
        response = await client.post("/portal/login", data={**form, "next": asked})
        assert response.headers["location"] == landed


async def test_logout_ends_the_session_at_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    browser = await sign_in(app, client, session, user)
    assert (await browser.get("/portal/account")).status_code == 200
    out = await browser.post("/portal/logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/login"
    assert (
        f'{BROWSER_COOKIE}=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    again = await browser.get("/portal/account")
    assert again.status_code == 303
    assert "ended=true" in again.headers["location"]


async def _expire(database: Database, token: str, **values: object) -> None:
    async with database.unit_of_work() as work:
        await work.execute(
            update(AuthSession)
            .where(col(AuthSession.browser_token_hash) == token_digest(token))
            .values(**values)
        )


async def test_an_idle_session_ends(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    browser = await sign_in(app, client, session, await create_user(session))
    idle = app.state.settings.portal_session_idle_seconds
    await _expire(database, browser.token, last_seen_at=utcnow() - timedelta(seconds=idle + 1))
    response = await browser.get("/portal/account")
    assert response.status_code == 303
    rejected = await audit_events(database, "auth.session.rejected")
    assert [event.reason for event in rejected] == ["session_idle"]


async def test_use_keeps_a_session_alive(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    browser = await sign_in(app, client, session, await create_user(session))
    idle = app.state.settings.portal_session_idle_seconds
    await _expire(database, browser.token, last_seen_at=utcnow() - timedelta(seconds=idle - 60))
    assert (await browser.get("/portal/account")).status_code == 200
    await _expire(database, browser.token, created_at=utcnow() - timedelta(seconds=idle * 2))
    assert (await browser.get("/portal/account")).status_code == 200


async def test_a_session_ends_at_its_absolute_limit_however_active(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    browser = await sign_in(app, client, session, await create_user(session))
    await _expire(database, browser.token, expires_at=utcnow() - timedelta(seconds=1))
    assert (await browser.get("/portal/account")).status_code == 303


async def test_suspension_ends_the_portal_session(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await create_user(session, role=Role.owner)
    organisation = await session.get(Organisation, owner.organisation_id)
    member = await create_user(session, organisation=organisation, role=Role.member)
    theirs = await sign_in(app, client, session, member)
    mine = await sign_in(app, client, session, owner)
    suspended = await mine.post(
        f"/portal/enterprise/members/{member.id}/suspend", {"reason": "left the company"}
    )
    assert suspended.status_code == 303
    assert (await theirs.get("/portal/enterprise")).status_code == 303


async def test_a_suspended_organisation_is_refused_like_in_the_api(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session, role=Role.owner)
    browser = await sign_in(app, client, session, user)
    await session.execute(
        update(Organisation)
        .where(col(Organisation.id) == user.organisation_id)
        .values(status=OrganisationStatus.suspended)
    )
    await session.commit()
    response = await browser.get("/portal/enterprise")
    assert response.status_code == 403
    assert "机构已被暂停" in response.text


async def test_changing_the_password_ends_every_other_session(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    other_browser = await sign_in(app, client, session, user)
    api = await auth_headers(app, session, user)
    browser = await sign_in(app, client, session, user)
    changed = await browser.post(
        "/portal/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "Another-Good-Pass-9",
            "password_confirm": "Another-Good-Pass-9",
        },
    )
    assert changed.status_code == 303
    new_token = changed.cookies[BROWSER_COOKIE]
    assert (await other_browser.get("/portal/account")).status_code == 303
    assert (await client.get("/v1/users/me", headers=api)).status_code == 401
    fresh = Browser(app, client, new_token)
    assert (await fresh.get("/portal/account")).status_code == 200


async def test_a_cookie_is_never_a_credential_for_the_api(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser = await sign_in(app, client, session, await create_user(session))
    response = await client.get("/v1/users/me", headers=browser.headers)
    assert response.status_code == 401


@pytest.mark.parametrize("token", [None, "", "0" * 64])
async def test_csrf_missing_or_wrong_is_refused_with_a_clear_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, token: str | None
) -> None:
    user = await create_user(session, role=Role.owner)
    browser = await sign_in(app, client, session, user)
    form = {"name": "X", "email": "x@example.cn"}
    if token is not None:
        form[csrf.FIELD_NAME] = token
    response = await client.post("/portal/enterprise/members", data=form, headers=browser.headers)
    assert response.status_code == 403
    assert "表单已失效" in response.text
    assert (await session.scalar(select(User).where(col(User.email) == "x@example.cn"))) is None


async def test_csrf_token_is_bound_to_the_cookie_it_was_made_for(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session, role=Role.owner)
    browser = await sign_in(app, client, session, user)
    someone_elses = csrf_token(app, "z" * 43)
    response = await client.post(
        "/portal/enterprise/members",
        data={"name": "X", "email": "x@example.cn", csrf.FIELD_NAME: someone_elses},
        headers=browser.headers,
    )
    assert response.status_code == 403


async def test_every_portal_form_checks_csrf(app: FastAPI, client: httpx.AsyncClient) -> None:
    """No POST route under /portal answers anything but the CSRF refusal without a token."""
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/portal") or "POST" not in getattr(route, "methods", set()):
            continue
        url = path.replace("{", "").replace("}", "")
        response = await client.post(url, data={})
        assert response.status_code == 403, path
        assert "表单已失效" in response.text, path


async def test_sign_in_replaces_the_csrf_cookie(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    await client.get("/portal/login")
    before = client.cookies[csrf.COOKIE_NAME]
    await portal_login(app, client, user.email)
    assert client.cookies[csrf.COOKIE_NAME] != before
