"""Password login, lockout, refresh rotation, logout and password changes."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from tests.factories import (
    DEFAULT_PASSWORD,
    audit_events,
    bearer,
    create_organisation,
    create_user,
    login,
)
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationStatus
from voucher_service.users.models import User, UserStatus


async def test_login_returns_tokens_that_work(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    tokens = await login(client, user.email)
    assert tokens["token_type"] == "bearer"
    assert 0 < tokens["expires_in"] <= 3600 and tokens["refresh_token"].startswith("vrt_")
    me = await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    assert "password_hash" not in me.text
    [event] = await audit_events(database, "auth.login.succeeded")
    assert event.actor_id == user.id and event.request_id and event.address


async def test_wrong_password_and_unknown_account_look_the_same(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    wrong = await client.post("/v1/auth/token", data={"username": user.email, "password": "nope"})
    unknown = await client.post(
        "/v1/auth/token", data={"username": "nobody@example.cn", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = {"request_id", "instance"}
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    failures = await audit_events(database, "auth.login.failed")
    assert [e.reason for e in failures] == ["wrong_password", "unknown_account"]
    assert all("nope" not in (e.before_json or "") + (e.after_json or "") for e in failures)


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, database: Database
) -> None:
    user = await create_user(session)
    threshold = app.state.settings.login_lockout_threshold
    for _ in range(threshold):
        response = await client.post(
            "/v1/auth/token", data={"username": user.email, "password": "wrong-Password-1"}
        )
        assert response.status_code == 401
    locked = await client.post(
        "/v1/auth/token", data={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert locked.status_code == 401
    assert (await audit_events(database, "auth.login.failed"))[-1].reason == "locked"
    await session.refresh(user)
    assert user.locked_until is not None and user.failed_login_count == threshold


async def test_lockout_grows_exponentially_and_is_capped(
    client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
) -> None:
    settings = app.state.settings
    user = await create_user(session)
    user.failed_login_count = settings.login_lockout_threshold + 20
    await session.commit()
    await client.post("/v1/auth/token", data={"username": user.email, "password": "x"})
    await session.refresh(user)
    assert user.locked_until is not None
    remaining = (user.locked_until - user.created_at).total_seconds()
    assert remaining <= settings.login_lockout_max_seconds + 60


async def test_suspended_user_or_organisation_cannot_log_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    suspended = await create_user(session, status=UserStatus.suspended)
    response = await client.post(
        "/v1/auth/token", data={"username": suspended.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403 and response.json()["code"] == "account_suspended"
    organisation = await create_organisation(session, status=OrganisationStatus.suspended)
    member = await create_user(session, organisation=organisation)
    response = await client.post(
        "/v1/auth/token", data={"username": member.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403


async def test_refresh_rotates_and_a_replay_ends_the_session(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    first = await login(client, user.email)
    second = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_refresh_token"
    # The replay ended the whole session: the rotated tokens are dead too.
    after = await client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    me = await client.get("/v1/users/me", headers=bearer(rotated["access_token"]))
    assert me.status_code == 401
    assert [e.reason for e in await audit_events(database, "auth.refresh.failed")] == [
        "reuse",
        "session_ended",
    ]


async def test_logout_stops_the_access_and_refresh_tokens_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await create_user(session)
    tokens = await login(client, user.email)
    other = await login(client, user.email)
    headers = bearer(tokens["access_token"])
    assert (await client.post("/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 401
    refresh = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Another session of the same user is untouched, until logout everywhere.
    other_headers = bearer(other["access_token"])
    assert (await client.get("/v1/users/me", headers=other_headers)).status_code == 200
    everywhere = await client.post("/v1/auth/logout?everywhere=true", headers=other_headers)
    assert everywhere.status_code == 204
    assert (await client.get("/v1/users/me", headers=other_headers)).status_code == 401


async def test_password_change_ends_every_session_and_returns_new_tokens(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    old = await login(client, user.email)
    elsewhere = await login(client, user.email)
    new_password = "Another-Secret-77"
    response = await client.post(
        "/v1/auth/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": new_password},
        headers=bearer(old["access_token"]),
    )
    assert response.status_code == 200
    fresh = response.json()
    for stale in (old, elsewhere):
        assert (
            await client.get("/v1/users/me", headers=bearer(stale["access_token"]))
        ).status_code == 401
    assert (
        await client.get("/v1/users/me", headers=bearer(fresh["access_token"]))
    ).status_code == 200
    await login(client, user.email, new_password)
    [event] = await audit_events(database, "user.password_changed")
    assert new_password not in (event.after_json or "")


async def test_password_change_needs_the_current_password_and_good_rules(
    client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    user = await create_user(session)
    headers = bearer((await login(client, user.email))["access_token"])
    wrong = await client.post(
        "/v1/auth/password",
        json={"current_password": "not-it", "new_password": "Another-Secret-77"},
        headers=headers,
    )
    assert wrong.status_code == 401
    assert (await audit_events(database, "user.password_change.failed"))[
        0
    ].reason == "wrong_current_password"
    weak = await client.post(
        "/v1/auth/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "password"},
        headers=headers,
    )
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    assert weak.json()["rules"]
    # The refused change left the session working.
    assert (await client.get("/v1/users/me", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    "password",
    ["short1A!", "alllowercaseletters", "Password123", "aaaaaaaaaaA1!"[:4] * 3],
)
async def test_weak_passwords_are_refused_at_registration(
    client: httpx.AsyncClient, password: str
) -> None:
    from tests.factories import make_credit_code

    response = await client.post(
        "/v1/auth/register",
        json={
            "organisation": {"name": "某某科技有限公司", "credit_code": make_credit_code()},
            "owner": {"email": "owner@example.cn", "name": "Owner", "password": password},
        },
    )
    assert response.status_code == 422 and response.json()["code"] == "weak_password"


async def test_user_rows_never_hold_a_plain_password(
    session: AsyncSession, client: httpx.AsyncClient
) -> None:
    user = await create_user(session)
    await login(client, user.email)
    stored = await session.scalar(select(User.password_hash).where(col(User.id) == user.id))
    assert stored is not None and stored.startswith("$argon2id$")
