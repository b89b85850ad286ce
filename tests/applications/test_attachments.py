"""Files through the API: bad ones are refused before anything is stored; downloads are private."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import func, select

from tests.applications.helpers import (
    JPEG,
    PDF,
    PNG,
    attach,
    authority_people,
    contract,
    enterprise_user,
)
from tests.factories import auth_headers, create_user
from tests.programs.factories import create_program, create_provider
from voucher_service.applications.models import Attachment
from voucher_service.users.models import Role


@pytest.fixture
async def draft(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> tuple[str, dict[str, str]]:
    provider = await create_provider(session)
    program = await create_program(session, providers=[provider], budget=10_000_000_00)
    _enterprise, headers = await enterprise_user(app, session)
    response = await client.post(
        "/v1/applications", json=contract(provider, program), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], headers


def stored_files(root: Path) -> list[Path]:
    return [path for path in (root / "attachments").rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("empty.pdf", b"", 422, "attachment_empty"),
        ("contract.pdf", PNG, 415, "attachment_type_mismatch"),
        (
            "contract.pdf",
            b"This is plain text pretending to be a PDF.",
            415,
            "attachment_type_not_allowed",
        ),
        ("scan.png", JPEG, 415, "attachment_type_mismatch"),
        ("run.exe", PDF, 415, "attachment_type_not_allowed"),
        ("../../../etc/cron.d/evil.pdf", PDF, 422, "attachment_name_invalid"),
        ("..\\..\\windows\\evil.pdf", PDF, 422, "attachment_name_invalid"),
    ],
)
async def test_bad_files_are_refused_before_anything_is_stored(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    draft: tuple[str, dict[str, str]],
    name: str,
    content: bytes,
    status: int,
    code: str,
) -> None:
    application_id, headers = draft
    response = await attach(client, headers, application_id, name=name, content=content)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert stored_files(app.state.settings.data_dir) == []
    assert await session.scalar(select(func.count()).select_from(Attachment)) == 0


async def test_oversized_file_is_refused(
    app: FastAPI, client: httpx.AsyncClient, draft: tuple[str, dict[str, str]]
) -> None:
    application_id, headers = draft
    limit = app.state.settings.attachment_max_bytes
    response = await attach(client, headers, application_id, content=PDF + b"0" * limit)
    assert response.status_code == 413
    assert response.json()["code"] in {"attachment_too_large", "payload_too_large"}
    assert stored_files(app.state.settings.data_dir) == []
    # Far over the limit, the body itself is cut off by the middleware.
    huge = await attach(client, headers, application_id, content=PDF + b"0" * (3 * limit))
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"


async def test_good_file_is_stored_once_and_downloadable_only_by_owner_and_authority(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    draft: tuple[str, dict[str, str]],
) -> None:
    application_id, headers = draft
    first = await attach(client, headers, application_id, name="合同 v1.pdf")
    second = await attach(client, headers, application_id, name="copy.pdf")
    assert first.status_code == 201 and second.status_code == 201
    body = first.json()
    assert body["name"] == "合同 v1.pdf" and body["content_type"] == "application/pdf"
    files = stored_files(app.state.settings.data_dir)
    assert [path.name for path in files] == [body["sha256"]]  # the same bytes stored once
    assert files[0].parent.name == body["sha256"][:2]
    url = f"/v1/applications/{application_id}/attachments/{body['id']}"
    own = await client.get(url, headers=headers)
    assert own.status_code == 200 and own.content == PDF
    assert own.headers["content-type"] == "application/pdf"
    assert own.headers["x-content-type-options"] == "nosniff"
    (reviewer,) = await authority_people(app, session, 1)
    assert (await client.get(url, headers=reviewer)).status_code == 200
    _other, stranger = await enterprise_user(app, session)
    assert (await client.get(url, headers=stranger)).status_code == 404
    operator = await create_user(session, role=Role.operator)
    assert (
        await client.get(url, headers=await auth_headers(app, session, operator))
    ).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_no_attachments_once_submitted(
    client: httpx.AsyncClient, draft: tuple[str, dict[str, str]]
) -> None:
    application_id, headers = draft
    await attach(client, headers, application_id)
    await attach(client, headers, application_id, "business_licence", "l.png", PNG)
    assert (
        await client.post(f"/v1/applications/{application_id}/submit", headers=headers)
    ).status_code == 200
    late = await attach(client, headers, application_id)
    assert late.status_code == 409 and late.json()["code"] == "application_state_conflict"
