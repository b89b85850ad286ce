"""The guided application form, step by step, through the applications service."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from tests.applications.helpers import PDF
from tests.factories import create_organisation, create_user
from tests.portal.helpers import WORKED_EXAMPLE_PROGRAM, Browser, post_file, sign_in
from tests.programs.factories import create_program, create_provider
from voucher_service.applications.models import Application
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.programs.models import Program
from voucher_service.users.models import Role


async def startup(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, **program_fields: Any
) -> tuple[Browser, Program, Organisation]:
    provider = await create_provider(session)
    fields = {**WORKED_EXAMPLE_PROGRAM, **program_fields}
    program = await create_program(session, providers=[provider], budget=1_000_000_00, **fields)
    enterprise = await create_organisation(session, kind=OrganisationKind.enterprise)
    owner = await create_user(session, organisation=enterprise, role=Role.owner)
    return await sign_in(app, client, session, owner), program, provider


CONTRACT = {
    "contract_number": "HT-2025-0042",
    "contract_amount": "200,000.00",
    "contract_signed_on": "2024-12-20",
    "contract_starts_on": "2025-01-01",
    "contract_ends_on": "2026-12-31",
    "project_name": "多模态大模型训练",
}


async def submitted_application(
    browser: Browser, program: Program, provider: Organisation, **contract: str
) -> uuid.UUID:
    """An application made and submitted through the portal's form, with its attachments."""
    created = await browser.post(
        "/portal/enterprise/apply",
        {**CONTRACT, **contract, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    draft_id = application_id(created)
    base = f"/portal/enterprise/applications/{draft_id}"
    for kind in ("contract", "business_licence"):
        await post_file(browser, f"{base}/attachments", {"kind": kind}, {"file": ("f.pdf", PDF)})
    submitted = await browser.post(f"{base}/submit")
    assert submitted.status_code == 303, submitted.text[:500]
    return draft_id


def application_id(response: httpx.Response) -> uuid.UUID:
    found = re.search(r"/applications/([0-9a-f-]{36})/", response.headers["location"])
    assert found is not None, response.headers.get("location")
    return uuid.UUID(found[1])


async def test_the_steps_lead_from_programme_to_a_submitted_application(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser, program, provider = await startup(app, client, session)
    first = await browser.get("/portal/enterprise/apply")
    assert program.name in first.text and 'aria-current="step"' in first.text
    second = await browser.get("/portal/enterprise/apply", params={"program": str(program.id)})
    assert provider.name in second.text
    query = {"program": str(program.id), "provider": str(provider.id)}
    third = await browser.get("/portal/enterprise/apply", params=query)
    assert 'name="contract_number"' in third.text

    created = await browser.post(
        "/portal/enterprise/apply",
        {**CONTRACT, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    assert created.status_code == 303
    draft_id = application_id(created)
    draft = await session.get(Application, draft_id)
    assert draft is not None and draft.contract_amount == 200_000_00  # yuan typed, fen stored
    await session.commit()

    base = f"/portal/enterprise/applications/{draft_id}"
    project = await browser.post(
        f"{base}/project", {"project_name": "多模态大模型训练", "project_summary": "训练"}
    )
    assert project.headers["location"].endswith("/declaration")
    declared = await browser.post(f"{base}/declaration", {"related_party": "no", "truthful": "yes"})
    assert declared.headers["location"].endswith("/attachments")
    for kind in ("contract", "business_licence"):
        uploaded = await post_file(
            browser, f"{base}/attachments", {"kind": kind}, {"file": (f"{kind}.pdf", PDF)}
        )
        assert uploaded.status_code == 303, uploaded.text[:300]

    review = await browser.get(f"{base}/review")
    assert review.status_code == 200
    assert "25,102.00" in review.text  # DESIGN §3's worked example, with its working
    assert "305" in review.text and "729" in review.text

    submitted = await browser.post(f"{base}/submit")
    assert submitted.status_code == 303
    detail = await browser.get(base)
    assert "已提交" in detail.text or "审核中" in detail.text
    stored = await session.get(Application, draft_id, populate_existing=True)
    assert stored is not None and stored.round == 1
    await session.commit()


async def test_a_contract_with_errors_is_shown_again_with_the_values_typed(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser, program, provider = await startup(app, client, session)
    bad = {**CONTRACT, "contract_amount": "12.345", "contract_ends_on": ""}
    page = await browser.post(
        "/portal/enterprise/apply",
        {**bad, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    assert page.status_code == 422
    assert 'id="f-contract_amount-error"' in page.text
    assert 'value="HT-2025-0042"' in page.text


async def test_submitting_without_attachments_is_refused_readably(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser, program, provider = await startup(app, client, session)
    created = await browser.post(
        "/portal/enterprise/apply",
        {**CONTRACT, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    base = f"/portal/enterprise/applications/{application_id(created)}"
    refused = await browser.post(f"{base}/submit")
    assert refused.status_code == 422
    assert "error-summary" in refused.text


async def test_a_file_that_is_not_a_pdf_or_image_is_refused_beside_the_field(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser, program, provider = await startup(app, client, session)
    created = await browser.post(
        "/portal/enterprise/apply",
        {**CONTRACT, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    base = f"/portal/enterprise/applications/{application_id(created)}"
    refused = await post_file(
        browser, f"{base}/attachments", {"kind": "contract"}, {"file": ("x.pdf", b"MZ\x90\x00")}
    )
    assert refused.status_code == 422
    assert 'id="f-file-error"' in refused.text


async def test_another_enterprises_application_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    browser, program, provider = await startup(app, client, session)
    created = await browser.post(
        "/portal/enterprise/apply",
        {**CONTRACT, "program_id": str(program.id), "provider_id": str(provider.id)},
    )
    other_browser, _, _ = await startup(app, client, session)
    base = f"/portal/enterprise/applications/{application_id(created)}"
    assert (await other_browser.get(base)).status_code == 404
    assert (await other_browser.post(f"{base}/withdraw")).status_code == 404
