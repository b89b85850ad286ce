"""The OpenAPI document declares every route's problems, so client authors can rely on it."""

from __future__ import annotations

import httpx


async def test_every_operation_declares_its_refusals(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation.get("responses", {}))
            if path.startswith("/v1/") and not any(s.startswith("4") for s in statuses):
                missing.append(f"{method.upper()} {path}: no 4xx problem declared")
            if operation.get("security") and not {"401", "403"} <= statuses:
                missing.append(f"{method.upper()} {path}: authenticated but 401/403 undeclared")
    assert not missing, "\n".join(missing)


async def test_both_oauth_flows_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["password"]["tokenUrl"] == "/v1/auth/token"
    assert flows["clientCredentials"]["tokenUrl"] == "/v1/oauth/token"
