"""What the provider's and the authority's forms do, through the same services as the API."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from providers.clients.models import ApiClient, ClientStatus
from providers.webhooks.endpoints import set_endpoint
from providers.webhooks.events import encode_event, example_data
from providers.webhooks.models import DEAD, PENDING, WebhookEvent, WebhookNotice
from tests.factories import audit_events, create_organisation, create_user, make_credit_code
from tests.portal.helpers import Browser, sign_in
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role, User
from voucher_service.webhooks.runtime import secret_box, url_guard

HOOK_URL = "https://93.184.216.34/hook"


async def read(session: AsyncSession, query: Any) -> Any:
    """One object as the database has it now; the test's transaction ends at once (on SQLite
    an open one would hold the write lock the app needs)."""
    found = await session.scalar(query.execution_options(populate_existing=True))
    await session.commit()
    return found


async def operator(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> Browser:
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    user = await create_user(session, organisation=provider, role=Role.operator)
    return await sign_in(app, client, session, user)


async def test_a_credential_is_created_rotated_and_revoked_with_audit_events(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    browser = await operator(app, client, session)
    created = await browser.post(
        "/portal/provider/credentials", {"name": "billing", "scopes": ["vouchers:read"]}
    )
    assert created.status_code == 303
    credential = await read(session, select(ApiClient).where(col(ApiClient.name) == "billing"))
    assert credential is not None
    assert credential.scopes == "vouchers:read"
    rotated = await browser.post(f"/portal/provider/credentials/{credential.id}/rotate")
    assert rotated.status_code == 303
    revoked = await browser.post(f"/portal/provider/credentials/{credential.id}/revoke")
    assert revoked.status_code == 303
    credential = await read(session, select(ApiClient).where(col(ApiClient.id) == credential.id))
    assert credential.status == ClientStatus.revoked
    actions = [e.action for e in await audit_events(database) if e.action.startswith("api_client")]
    assert actions == ["api_client.created", "api_client.rotated", "api_client.revoked"]
    again = await browser.post(f"/portal/provider/credentials/{credential.id}/rotate")
    assert again.status_code == 422  # refused by the rules, shown on the page
    assert "There is a problem" in again.text or "提交的内容有误" in again.text


async def test_a_credential_needs_a_scope_and_keeps_the_name_typed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser = await operator(app, client, session)
    response = await browser.post("/portal/provider/credentials", {"name": "billing"})
    assert response.status_code == 422
    assert "请至少选择一项权限" in response.text
    assert 'value="billing"' in response.text


async def test_a_webhook_url_to_a_private_address_is_refused_beside_the_field(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser = await operator(app, client, session)
    url = "https://10.0.0.8/hook"
    response = await browser.post(
        "/portal/provider/webhook", {"url": url, "events": ["voucher.bound"]}
    )
    assert response.status_code == 422
    assert 'id="f-url-error"' in response.text
    assert "回调地址不被允许" in response.text
    assert f'value="{url}"' in response.text


async def test_the_endpoint_notice_and_replay_of_a_dead_letter(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    user = await create_user(session, organisation=provider, role=Role.operator)
    browser = await sign_in(app, client, session, user)
    settings = app.state.settings
    await set_endpoint(
        session, secret_box(settings), url_guard(settings), provider.id, HOOK_URL, ["voucher.bound"]
    )
    now = utcnow()
    event = WebhookEvent(
        provider_id=provider.id,
        event_type="voucher.bound",
        payload=encode_event("voucher.bound", example_data("voucher.bound"), now),
        status=DEAD,
        next_attempt_at=None,
        dead_lettered_at=now,
    )
    session.add(event)
    session.add(
        WebhookNotice(
            provider_id=provider.id,
            kind="endpoint_disabled",
            message="Your endpoint answered 410 Gone and was disabled.",
            message_zh="您的回调地址返回 410 Gone，已被停用。",
            url=HOOK_URL,
        )
    )
    await session.commit()
    page = await browser.get("/portal/provider/webhook")
    assert "您的回调地址返回 410 Gone，已被停用。" in page.text
    dead = await browser.get("/portal/provider/webhook/events")
    assert str(event.id) in dead.text
    replayed = await browser.post(
        "/portal/provider/webhook/replay", {"event_ids": [str(event.id)], "all": "false"}
    )
    assert replayed.status_code == 303
    event = await read(session, select(WebhookEvent).where(col(WebhookEvent.id) == event.id))
    assert event.status == PENDING


async def test_an_organisation_with_a_bad_credit_code_is_not_registered(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.program_admin)
    browser = await sign_in(app, client, session, admin)
    code = make_credit_code()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = await browser.post(
        "/portal/authority/organisations", {"kind": "provider", "name": "云算", "credit_code": bad}
    )
    assert response.status_code == 422
    assert 'id="new-credit_code-error"' in response.text  # apart from the filter form's ids
    assert await read(session, select(Organisation).where(col(Organisation.name) == "云算")) is None
    accepted = await browser.post(
        "/portal/authority/organisations",
        {
            "kind": "provider",
            "name": "云算",
            "credit_code": bad,
            "allow_legacy_credit_code": "true",
        },
    )
    assert accepted.status_code == 303


async def test_a_password_reset_ends_the_users_sessions_and_shows_the_link_once(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.sysadmin)
    user = await create_user(session, role=Role.operator)
    theirs = await sign_in(app, client, session, user)
    mine = await sign_in(app, client, session, admin)
    reset = await mine.post(f"/portal/authority/users/{user.id}/password-reset")
    assert reset.status_code == 303
    assert (await theirs.get("/portal/provider")).status_code == 303
    flash = reset.headers["set-cookie"].split(";")[0]
    shown = await client.get(
        reset.headers["location"], headers={"Cookie": f"{mine.headers['Cookie']}; {flash}"}
    )
    assert "/portal/password?token=vpt_" in shown.text
    refreshed = await read(session, select(User).where(col(User.id) == user.id))
    assert refreshed is not None
    assert refreshed.password_hash is None


async def test_a_sysadmin_cannot_suspend_themselves(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.sysadmin)
    browser = await sign_in(app, client, session, admin)
    response = await browser.post(
        f"/portal/authority/users/{admin.id}/suspend", {"reason": "testing myself"}
    )
    assert response.status_code == 422
    assert "不能暂停自己的账户" in response.text


async def test_a_suspension_without_a_reason_is_explained_on_the_members_page(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await create_user(session, role=Role.owner)
    organisation = await read(
        session, select(Organisation).where(col(Organisation.id) == owner.organisation_id)
    )
    member = await create_user(session, organisation=organisation, role=Role.member)
    browser = await sign_in(app, client, session, owner)
    response = await browser.post(f"/portal/enterprise/members/{member.id}/suspend", {"reason": ""})
    assert response.status_code == 422
    assert f"{member.email}: 请填写此项" in response.text
    assert 'href="#f-reason"' not in response.text  # no link to a field that is not there
