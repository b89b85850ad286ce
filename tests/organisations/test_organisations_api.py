"""Registration, one's own organisation, and the authority's organisation admin."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
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
    make_credit_code,
)
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role


def registration(**organisation: Any) -> dict[str, Any]:
    return {
        "organisation": {
            "name": "北京未来智算科技有限公司",
            "credit_code": make_credit_code("110108"),
            "founded_on": "2024-03-01",
            "size": "small",
            "industry": "I65",
        }
        | organisation,
        "owner": {"email": "founder@example.cn", "name": "张三", "password": DEFAULT_PASSWORD},
    }


async def test_registration_creates_enterprise_and_owner(
    client: httpx.AsyncClient, database: Database
) -> None:
    body = registration()
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["organisation"]["region_code"] == "110108"
    assert created["organisation"]["is_startup"] is True
    assert created["organisation"]["status"] == "active"
    assert created["user"]["role"] == "owner"
    assert "password" not in response.text
    tokens = await login(client, "founder@example.cn")
    mine = await client.get("/v1/organisations/me", headers=bearer(tokens["access_token"]))
    assert mine.json()["credit_code"] == body["organisation"]["credit_code"]
    actions = {event.action for event in await audit_events(database)}
    assert {"organisation.created", "user.created"} <= actions
    assert DEFAULT_PASSWORD not in str(
        [(e.after_json, e.before_json) for e in await audit_events(database)]
    )


async def test_duplicate_credit_code_and_email_are_refused_clearly(
    client: httpx.AsyncClient,
) -> None:
    body = registration()
    assert (await client.post("/v1/auth/register", json=body)).status_code == 201
    same_code = registration(credit_code=body["organisation"]["credit_code"])
    same_code["owner"]["email"] = "other@example.cn"
    response = await client.post("/v1/auth/register", json=same_code)
    assert response.status_code == 409 and response.json()["code"] == "credit_code_taken"
    same_email = registration()
    response = await client.post("/v1/auth/register", json=same_email)
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


async def test_a_bad_checksum_is_a_clear_422_in_both_languages(client: httpx.AsyncClient) -> None:
    body = registration(credit_code="91110000600037341M")
    english = await client.post("/v1/auth/register", json=body)
    assert english.status_code == 422
    assert (
        english.json()["code"] == "invalid_credit_code" and english.json()["reason"] == "checksum"
    )
    assert "check character" in english.json()["detail"]
    chinese = await client.post(
        "/v1/auth/register", json=body, headers={"Accept-Language": "zh-CN"}
    )
    assert "校验位" in chinese.json()["detail"]


@pytest.mark.parametrize(
    "smuggled",
    [
        {"organisation": {"status": "active"}},
        {"organisation": {"kind": "authority"}},
        {"organisation": {"credit_code_legacy": True}},
        {"owner": {"role": "sysadmin"}},
    ],
)
async def test_registration_refuses_fields_a_client_may_not_set(
    client: httpx.AsyncClient, smuggled: dict[str, dict[str, Any]]
) -> None:
    body = registration()
    for part, fields in smuggled.items():
        body[part] |= fields
    response = await client.post("/v1/auth/register", json=body)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


async def test_only_the_authority_accepts_a_legacy_code(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await auth_headers(app, session, await create_user(session, role=Role.program_admin))
    body = {"kind": "provider", "name": "老牌算力中心", "credit_code": "91110000600037341M"}
    refused = await client.post("/v1/admin/organisations", json=body, headers=admin)
    assert refused.status_code == 422
    accepted = await client.post(
        "/v1/admin/organisations", json=body | {"allow_legacy_credit_code": True}, headers=admin
    )
    assert accepted.status_code == 201 and accepted.json()["credit_code_legacy"] is True
    registration_body = registration(credit_code="91110000600037341M")
    registration_body["organisation"]["allow_legacy_credit_code"] = True
    assert (await client.post("/v1/auth/register", json=registration_body)).status_code == 422


async def test_owner_updates_contact_details_but_never_status(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    owner = await create_user(session, role=Role.owner)
    headers = await auth_headers(app, session, owner)
    ok = await client.patch("/v1/organisations/me", json={"industry": "C39"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["industry"] == "C39"
    for field in (
        {"status": "active"},
        {"credit_code": make_credit_code()},
        {"founded_on": "2025-01-01"},
    ):
        response = await client.patch("/v1/organisations/me", json=field, headers=headers)
        assert response.status_code == 422


async def test_suspension_locks_out_members_at_once_and_reactivation_restores(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    enterprise = await create_organisation(session, founded_on=date(2025, 1, 1))
    owner = await create_user(session, organisation=enterprise)
    owner_headers = await auth_headers(app, session, owner)
    admin = await auth_headers(app, session, await create_user(session, role=Role.program_admin))
    url = f"/v1/admin/organisations/{enterprise.id}"
    suspended = await client.post(f"{url}/suspend", json={"reason": "fraud check"}, headers=admin)
    assert (
        suspended.json()["status"] == "suspended"
        and suspended.json()["status_reason"] == "fraud check"
    )
    blocked = await client.get("/v1/users/me", headers=owner_headers)
    assert blocked.status_code == 403 and blocked.json()["code"] == "account_suspended"
    twice = await client.post(f"{url}/suspend", json={"reason": "again"}, headers=admin)
    assert twice.status_code == 409
    await client.post(f"{url}/reactivate", json={"reason": "cleared"}, headers=admin)
    assert (await client.get("/v1/users/me", headers=owner_headers)).status_code == 200
    actions = [e.action for e in await audit_events(database) if e.target_id == str(enterprise.id)]
    assert actions == ["organisation.suspended", "organisation.reactivated"]


async def test_the_authority_cannot_be_suspended(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await create_user(session, role=Role.program_admin)
    headers = await auth_headers(app, session, admin)
    response = await client.post(
        f"/v1/admin/organisations/{admin.organisation_id}/suspend",
        json={"reason": "oops"},
        headers=headers,
    )
    assert response.status_code == 409


async def test_authority_lists_and_filters_organisations(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    provider = await create_organisation(session, kind=OrganisationKind.provider)
    await create_organisation(session)
    reviewer = await auth_headers(app, session, await create_user(session, role=Role.reviewer))
    response = await client.get(
        "/v1/admin/organisations", params={"kind": "provider"}, headers=reviewer
    )
    assert [item["id"] for item in response.json()["items"]] == [str(provider.id)]
    by_code = await client.get(
        "/v1/admin/organisations", params={"credit_code": provider.credit_code}, headers=reviewer
    )
    assert len(by_code.json()["items"]) == 1
