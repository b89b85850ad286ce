"""Provider onboarding through the API, and the checks made before money moves."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.sqltypes import utcnow
from providers.registry import service as registry
from providers.registry.errors import ProviderNotApproved, ProviderSuspended
from providers.registry.models import ProviderProfile, ProviderState
from tests.factories import audit_events, create_organisation, make_credit_code
from tests.programs.factories import create_provider, headers_for
from voucher_service.db import Database
from voucher_service.organisations.models import OrganisationKind
from voucher_service.users.models import Role


@pytest.fixture
async def admin(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await headers_for(app, session, Role.program_admin)


async def test_onboarding_proposed_publicity_approved_suspended_reinstated(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], database: Database
) -> None:
    body = {"name": "智算中心", "credit_code": make_credit_code(), "services": ["compute"]}
    created = await client.post("/v1/admin/providers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    provider = created.json()
    assert (provider["state"], provider["services"]) == ("proposed", ["compute"])
    url = f"/v1/admin/providers/{provider['provider_id']}"

    early = await client.post(url + "/approve", headers=admin)
    assert (early.status_code, early.json()["code"]) == (409, "provider_state_conflict")
    started = await client.post(url + "/publicity", json={"days": 0}, headers=admin)
    assert started.json()["state"] == "publicity"
    approved = await client.post(url + "/approve", headers=admin)
    assert approved.json()["state"] == "approved"
    public = (await client.get("/v1/providers")).json()["items"]
    assert [item["provider_id"] for item in public] == [provider["provider_id"]]

    suspended = await client.post(url + "/suspend", json={"reason": "fraud probe"}, headers=admin)
    assert (suspended.json()["state"], suspended.json()["suspended_reason"]) == (
        "suspended",
        "fraud probe",
    )
    assert (await client.get("/v1/providers")).json()["items"] == []
    reinstated = await client.post(url + "/reinstate", json={"reason": "cleared"}, headers=admin)
    assert reinstated.json()["state"] == "approved"
    actions = [event.action for event in await audit_events(database)]
    for action in ("proposed", "publicity_started", "approved", "suspended", "reinstated"):
        assert f"provider.{action}" in actions


async def test_publicity_must_run_its_days(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    provider = await create_provider(session, state=ProviderState.proposed)
    url = f"/v1/admin/providers/{provider.id}"
    await client.post(url + "/publicity", json={"days": 5}, headers=admin)
    refused = await client.post(url + "/approve", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "publicity_not_over")
    profile = await session.get(ProviderProfile, provider.id)
    assert profile is not None
    assert profile.publicity_until is not None
    assert profile.publicity_until - utcnow() > timedelta(days=4, hours=23)


async def test_model_provider_needs_its_filing_number(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    provider = await create_provider(
        session, state=ProviderState.proposed, services=["model"], filing_number=None
    )
    url = f"/v1/admin/providers/{provider.id}"
    await client.post(url + "/publicity", json={"days": 0}, headers=admin)
    refused = await client.post(url + "/approve", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (422, "filing_number_required")
    patched = await client.patch(url, json={"filing_number": "Beijing-123"}, headers=admin)
    assert patched.json()["filing_number"] == "Beijing-123"
    assert (await client.post(url + "/approve", headers=admin)).json()["state"] == "approved"


async def test_register_an_existing_organisation_once(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    organisation = await create_organisation(session, kind=OrganisationKind.provider)
    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    body = {"organisation_id": str(organisation.id), "services": ["compute", "model"]}
    first = await client.post("/v1/admin/providers", json=body, headers=admin)
    assert first.status_code == 201
    again = await client.post("/v1/admin/providers", json=body, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "provider_already_registered")
    wrong_kind = {"organisation_id": str(enterprise.id), "services": ["compute"]}
    missing = await client.post("/v1/admin/providers", json=wrong_kind, headers=admin)
    assert missing.status_code == 404
    both = body | {"name": "x" * 5}
    assert (await client.post("/v1/admin/providers", json=both, headers=admin)).status_code == 422
    bad_code = {"name": "Cloud", "credit_code": "91350100M000100Y4Z", "services": ["compute"]}
    refused = await client.post("/v1/admin/providers", json=bad_code, headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_credit_code")


async def test_catalogue_crud(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    provider = await create_provider(session, catalogue=())
    url = f"/v1/admin/providers/{provider.id}/catalogue"
    item = {"resource": "gpu_hour", "unit": "hour", "list_price_amount": 30_00}
    created = await client.post(url, json=item, headers=admin)
    assert created.status_code == 201, created.text
    duplicate = await client.post(url, json=item, headers=admin)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "catalogue_item_exists")
    bad = await client.post(url, json=item | {"resource": "GPU hour"}, headers=admin)
    assert bad.status_code == 422
    item_url = f"{url}/{created.json()['id']}"
    changed = await client.patch(item_url, json={"description": "H800"}, headers=admin)
    assert changed.json()["description"] == "H800"
    assert (await client.delete(item_url, headers=admin)).status_code == 204
    listed = (await client.get(url, headers=admin)).json()
    assert [entry["active"] for entry in listed] == [False]
    other = await create_provider(session)
    foreign = f"/v1/admin/providers/{other.id}/catalogue/{created.json()['id']}"
    assert (await client.patch(foreign, json={}, headers=admin)).status_code == 404


async def test_suspended_provider_is_not_redeemable(session: AsyncSession) -> None:
    provider = await create_provider(session)
    assert (await registry.require_redeemable(session, provider.id)).state == "approved"
    await registry.suspend(session, provider.id, reason="audit")
    await session.commit()
    assert not await registry.is_approved(session, provider.id)
    with pytest.raises(ProviderSuspended):
        await registry.require_redeemable(session, provider.id)
    proposed = await create_provider(session, state=ProviderState.proposed)
    with pytest.raises(ProviderNotApproved):
        await registry.require_redeemable(session, proposed.id)
    with pytest.raises(ProviderNotApproved):
        await registry.require_redeemable(session, (await create_organisation(session)).id)
