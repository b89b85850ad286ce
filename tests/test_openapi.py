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


async def test_provider_redemption_writes_declare_a_required_idempotency_key(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    seen = {}
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/provider/redemptions"):
            continue
        for method, operation in operations.items():
            keys = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
            seen[f"{method.upper()} {path}"] = [key["required"] for key in keys]
    writes = {name: found for name, found in seen.items() if name.startswith("POST")}
    assert len(writes) == 4  # create, capture, void, refunds
    assert all(found == [True] for found in writes.values()), writes
    assert all(found == [] for name, found in seen.items() if name.startswith("GET"))


async def test_optional_idempotency_keys_stay_optional(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    optional = [
        parameter["required"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "Idempotency-Key" and "Required." not in parameter["description"]
    ]
    assert optional and not any(optional)
