"""What kit/openapi_additions.py adds to the OpenAPI document: every link reaches a real
operation with the parameters it names, schemathesis reads them all, and every operation
documents the problems the shared layers answer for it."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI

from voucher_service.kit.openapi_additions import LINKS


def _operations_by_id(document: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }


def test_every_link_reaches_an_operation_with_its_parameters(app: FastAPI) -> None:
    document = app.openapi()
    by_id = _operations_by_id(document)
    declared = {(m, p, s, t) for link in LINKS for (m, p, s) in [link.source] for t in link.targets}
    found = set()
    for method, path, operation in by_id.values():
        for status, response in operation["responses"].items():
            for link in response.get("links", {}).values():
                target_method, target_path, target = by_id[link["operationId"]]
                found.add((method, path, status, (target_method, target_path)))
                path_names = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
                assert set(link.get("parameters", {})) == path_names, (path, target_path)
                body = target.get("requestBody", {}).get("content", {}).get("application/json")
                assert body or "requestBody" not in link, (path, target_path)
    assert found == declared  # none skipped: every end of every link exists


def test_schemathesis_reads_every_link(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.as_state_machine()  # raises on a link it cannot resolve
    declared = sum(len(link.targets) for link in LINKS)
    assert schema.statistic.transitions.total >= declared


def test_the_shared_layers_problems_are_documented(app: FastAPI) -> None:
    operations = [op for ops in app.openapi()["paths"].values() for op in ops.values()]
    paginated = [op for op in operations if _takes(op, "cursor")]
    with_body = [op for op in operations if "requestBody" in op]
    keyed = [op for op in operations if _takes(op, "idempotency-key")]
    assert len(paginated) > 20 and len(with_body) > 40 and len(keyed) > 10
    assert all("400" in op["responses"] for op in paginated)
    assert all({"400", "413", "415"} <= op["responses"].keys() for op in with_body)
    assert all({"400", "409", "422"} <= op["responses"].keys() for op in keyed)
    assert all("503" in op["responses"] for op in operations)
    for operation in operations:
        for response in operation["responses"].values():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            assert schema.get("$ref") != "#/components/schemas/HTTPValidationError"


def _takes(operation: dict, name: str) -> bool:
    return any(p["name"].lower() == name for p in operation.get("parameters", []))
