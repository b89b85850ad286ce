"""``/v1/admin/audit-events``: filters, keyset pagination, CSV export, verification, access."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import audit_events, auth_headers, create_user
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor
from voucher_service.db import Database
from voucher_service.users.models import Role


async def seed(database: Database) -> None:
    async with database.unit_of_work() as session:
        for index in range(5):
            await audit.record(
                session,
                action="voucher.frozen" if index % 2 else "voucher.unfrozen",
                actor=AuditActor.system(),
                target=("voucher", f"V{index}"),
                after={"note": '=HYPERLINK("http://evil")' if index == 0 else "ok"},
            )


@pytest.fixture
async def auditor(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await auth_headers(app, session, await create_user(session, role=Role.auditor))


async def test_filters_and_keyset_pagination(
    client: httpx.AsyncClient, database: Database, auditor: dict[str, str]
) -> None:
    await seed(database)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"action": "voucher.frozen", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/admin/audit-events", params=params, headers=auditor)).json()
        seen += [item["target_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["V3", "V1"]  # newest first
    prefixed = await client.get(
        "/v1/admin/audit-events",
        params={"action_prefix": "voucher.", "target_id": "V4"},
        headers=auditor,
    )
    [item] = prefixed.json()["items"]
    assert item["action"] == "voucher.unfrozen" and item["after"] == {"note": "ok"}


async def test_csv_export_is_safe_for_spreadsheets_and_is_audited(
    client: httpx.AsyncClient, database: Database, auditor: dict[str, str]
) -> None:
    await seed(database)
    response = await client.get(
        "/v1/admin/audit-events/export",
        params={"action_prefix": "voucher.", "lang": "en"},
        headers=auditor,
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["target_id"] for row in rows] == ["V0", "V1", "V2", "V3", "V4"]
    assert rows[0]["after"].startswith("{")  # JSON, not a formula
    assert all(not row[key].startswith("=") for row in rows for key in row)
    assert await audit_events(database, "audit.exported")


async def test_verify_endpoint_reports_the_chain(
    client: httpx.AsyncClient, database: Database, auditor: dict[str, str]
) -> None:
    await seed(database)
    report = (await client.get("/v1/admin/audit-events/verify", headers=auditor)).json()
    assert report["ok"] is True and report["unlinked_checked"] >= 5


@pytest.mark.parametrize("role", [Role.program_admin, Role.reviewer, Role.finance, Role.owner])
async def test_only_auditors_and_sysadmins_read_the_trail(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database, role: Role
) -> None:
    headers = await auth_headers(app, session, await create_user(session, role=role))
    response = await client.get("/v1/admin/audit-events", headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    [denied] = await audit_events(database, "access.denied")
    assert denied.reason == "role_not_allowed" and denied.role == role


async def test_events_carry_request_id_address_and_actor(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, database: Database
) -> None:
    sysadmin = await create_user(session, role=Role.sysadmin)
    headers = await auth_headers(app, session, sysadmin)
    response = await client.get("/v1/admin/audit-events", headers=headers)
    assert response.status_code == 200
    exported = await client.get(
        "/v1/admin/audit-events/export", headers={**headers, "X-Request-ID": "req-abcdef123"}
    )
    assert exported.status_code == 200
    [event] = await audit_events(database, "audit.exported")
    assert (event.actor_id, event.role, event.request_id) == (
        sysadmin.id,
        "sysadmin",
        "req-abcdef123",
    )
    assert event.organisation_id == sysadmin.organisation_id and event.address
