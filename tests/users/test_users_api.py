"""Invitations, administrator-created users, password resets and suspension."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import (
    DEFAULT_PASSWORD,
    audit_events,
    auth_headers,
    bearer,
    create_organisation,
    create_user,
    login,
)
from voucher_service.db import Database
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.users.models import Role

NEW_PASSWORD = "Brand-New-Pass-9"


async def test_owner_invites_a_member_who_sets_a_password(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    owner = await create_user(session, role=Role.owner)
    headers = await auth_headers(app, session, owner)
    invited = await client.post(
        "/v1/organisations/me/members",
        json={"email": "Member@Example.cn", "name": "李四"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert (body["email"], body["role"], body["status"]) == (
        "member@example.cn",
        "member",
        "invited",
    )
    token = body["password_setup_token"]
    # No password yet: no login.
    refused = await client.post("/v1/auth/token", data={"username": body["email"], "password": "x"})
    assert refused.status_code == 401
    weak = await client.post(
        "/v1/auth/password-token", json={"token": token, "new_password": "weak"}
    )
    assert weak.status_code == 422
    accepted = await client.post(
        "/v1/auth/password-token", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert accepted.status_code == 204
    again = await client.post(
        "/v1/auth/password-token", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert again.status_code == 401 and again.json()["code"] == "invalid_password_token"
    tokens = await login(client, body["email"], NEW_PASSWORD)
    me = (await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))).json()
    assert (me["status"], me["organisation_id"]) == ("active", str(owner.organisation_id))
    members = await client.get("/v1/organisations/me/members", headers=headers)
    assert {m["email"] for m in members.json()["items"]} == {owner.email, body["email"]}
    events = await audit_events(database)
    assert token not in str([(e.before_json, e.after_json) for e in events])
    assert "user.invitation_accepted" in {e.action for e in events}


async def test_members_cannot_invite_and_the_role_is_never_chosen_by_the_owner(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    member = await create_user(session, role=Role.member)
    headers = await auth_headers(app, session, member)
    response = await client.post(
        "/v1/organisations/me/members", json={"email": "x@example.cn", "name": "x"}, headers=headers
    )
    assert response.status_code == 403
    owner = await create_user(session, role=Role.owner)
    smuggled = await client.post(
        "/v1/organisations/me/members",
        json={"email": "y@example.cn", "name": "y", "role": "owner"},
        headers=await auth_headers(app, session, owner),
    )
    assert smuggled.status_code == 422


async def test_owner_suspends_own_members_only(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    owner = await create_user(session, role=Role.owner)
    member = await create_user(
        session,
        role=Role.member,
        organisation=await session.get(Organisation, owner.organisation_id),
    )
    stranger = await create_user(session, role=Role.member)
    headers = await auth_headers(app, session, owner)
    member_headers = await auth_headers(app, session, member)
    ok = await client.post(
        f"/v1/organisations/me/members/{member.id}/suspend",
        json={"reason": "left"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["status"] == "suspended"
    assert (await client.get("/v1/users/me", headers=member_headers)).status_code == 401
    other = await client.post(
        f"/v1/organisations/me/members/{stranger.id}/suspend",
        json={"reason": "xx"},
        headers=headers,
    )
    missing = await client.post(
        f"/v1/organisations/me/members/{uuid.uuid4()}/suspend",
        json={"reason": "xx"},
        headers=headers,
    )
    assert other.status_code == 404 and other.json()["detail"] == "No such object."
    assert missing.status_code == 404 and missing.json() | {"request_id": 0, "instance": 0} == (
        other.json() | {"request_id": 0, "instance": 0}
    )
    [denied] = await audit_events(database, "access.denied")
    assert (denied.reason, denied.target_type, denied.target_id) == (
        "not_in_organisation",
        "user",
        str(stranger.id),
    )
    self_suspend = await client.post(
        f"/v1/organisations/me/members/{owner.id}/suspend", json={"reason": "xx"}, headers=headers
    )
    assert self_suspend.status_code == 409
    back = await client.post(
        f"/v1/organisations/me/members/{member.id}/reactivate", headers=headers
    )
    assert back.json()["status"] == "active"


async def test_sysadmin_creates_authority_and_provider_users(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    sysadmin = await create_user(session, role=Role.sysadmin)
    headers = await auth_headers(app, session, sysadmin)
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    created = await client.post(
        "/v1/admin/users",
        json={
            "organisation_id": str(provider.id),
            "email": "ops@cloud.cn",
            "name": "运维",
            "role": "operator",
        },
        headers=headers,
    )
    assert created.status_code == 201
    token = created.json()["password_setup_token"]
    await client.post(
        "/v1/auth/password-token", json={"token": token, "new_password": NEW_PASSWORD}
    )
    await login(client, "ops@cloud.cn", NEW_PASSWORD)
    wrong_role = await client.post(
        "/v1/admin/users",
        json={
            "organisation_id": str(provider.id),
            "email": "r@cloud.cn",
            "name": "r",
            "role": "reviewer",
        },
        headers=headers,
    )
    assert wrong_role.status_code == 422 and wrong_role.json()["code"] == "role_not_allowed"
    duplicate = await client.post(
        "/v1/admin/users",
        json={
            "organisation_id": str(provider.id),
            "email": "OPS@cloud.cn",
            "name": "x",
            "role": "operator",
        },
        headers=headers,
    )
    assert duplicate.status_code == 409


async def test_password_reset_ends_sessions_and_needs_the_token(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    sysadmin = await auth_headers(app, session, await create_user(session, role=Role.sysadmin))
    user = await create_user(session, role=Role.reviewer)
    tokens = await login(client, user.email)
    reset = await client.post(f"/v1/admin/users/{user.id}/password-reset", headers=sysadmin)
    assert reset.status_code == 200
    assert (
        await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    ).status_code == 401
    old = await client.post(
        "/v1/auth/token", data={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    await client.post(
        "/v1/auth/password-token",
        json={"token": reset.json()["password_setup_token"], "new_password": NEW_PASSWORD},
    )
    await login(client, user.email, NEW_PASSWORD)


async def test_sysadmin_suspends_users_but_not_itself(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    sysadmin = await create_user(session, role=Role.sysadmin)
    headers = await auth_headers(app, session, sysadmin)
    user = await create_user(session, role=Role.finance)
    user_headers = await auth_headers(app, session, user)
    suspended = await client.post(
        f"/v1/admin/users/{user.id}/suspend", json={"reason": "left"}, headers=headers
    )
    assert suspended.status_code == 200
    assert (await client.get("/v1/users/me", headers=user_headers)).status_code == 401
    assert (
        await client.post(
            f"/v1/admin/users/{sysadmin.id}/suspend", json={"reason": "xx"}, headers=headers
        )
    ).status_code == 409
    listed = await client.get("/v1/admin/users", params={"status": "suspended"}, headers=headers)
    assert [item["id"] for item in listed.json()["items"]] == [str(user.id)]
    assert "password_hash" not in listed.text
