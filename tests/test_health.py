from __future__ import annotations

import httpx
import pytest

from voucher_service import migrations


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_database_and_revision(
    client: httpx.AsyncClient, backend: str
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == ("sqlite" if backend == "sqlite" else "postgresql")
    assert body["revision"] == migrations.head_revision()


async def test_readyz_refuses_a_database_behind_the_code(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await migrations.downgrade_async(database_url, "base")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"
    assert response.json()["revision"] is None


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_api_documentation_is_served_without_a_cdn(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "cdn" not in response.text.lower()


async def test_documentation_assets_come_from_the_service(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    script = page.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/")
    assert (await client.get(script)).status_code == 200
