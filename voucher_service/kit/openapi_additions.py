"""What the generated OpenAPI document gains after FastAPI made it, for every route at once.

* ``links`` between the operations of the main resources, so a client (and the stateful fuzzer)
  can follow a programme to its applications, a voucher to its redemptions, a redemption to its
  capture, void and refunds, a settlement to its approval and payment. Each names its target by
  the operationId FastAPI generated for that method and path.
* the problems that the shared layers answer for any route that has what they look at, so the
  document says what a client really gets: ``400 invalid_cursor`` where there is a ``cursor``
  (pagination); ``400`` malformed body, ``413`` too large, ``415`` compressed where there is a
  body (request limits); ``400``/``409``/``422`` where there is an ``Idempotency-Key``
  (idempotency layer); ``503`` with ``Retry-After`` everywhere (database unavailable, deadline);
  and every ``422`` as the problem+json our validation handler sends, not FastAPI's default body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from voucher_service.kit.problems import PROBLEM_MEDIA_TYPE


@dataclass(frozen=True)
class Link:
    """From a successful answer of ``source`` to ``targets``, passing ``parameters``/``body``."""

    source: tuple[str, str, str]  # method, path, status
    targets: tuple[tuple[str, str], ...]  # method, path
    parameters: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] | None = None


def _each(method: str, prefix: str, *suffixes: str) -> tuple[tuple[str, str], ...]:
    return tuple((method, prefix + suffix) for suffix in suffixes)


PROGRAM = "/v1/admin/programs/{program_id}"
APPLICATION = "/v1/applications/{application_id}"
REDEMPTION = "/v1/provider/redemptions/{redemption_id}"
SETTLEMENT = "/v1/admin/settlements/{settlement_id}"
ID = "$response.body#/id"

LINKS = (
    Link(
        ("POST", "/v1/admin/programs", "201"),
        (
            *_each("POST", PROGRAM, "/fund", "/open", "/close", "/providers", "/batches/close"),
            *_each("GET", PROGRAM, "", "/figures", "/providers", "/price-ceilings"),
            ("PUT", PROGRAM + "/price-ceilings"),
            ("PATCH", PROGRAM),
            ("GET", "/v1/programs/{program_id}"),
        ),
        {"program_id": ID},
    ),
    Link(
        ("POST", PROGRAM + "/open", "200"),
        (("POST", "/v1/applications"), ("POST", "/v1/admin/settlements")),
        body={"program_id": ID},
    ),
    Link(
        ("POST", "/v1/applications", "201"),
        (
            *_each("POST", APPLICATION, "/submit", "/withdraw", "/attachments"),
            *_each("GET", APPLICATION, "", "/eligibility"),
            ("PATCH", APPLICATION),
            ("GET", "/v1/admin/applications/{application_id}"),
            ("POST", "/v1/admin/applications/{application_id}/decisions"),
        ),
        {"application_id": ID},
    ),
    Link(
        ("POST", APPLICATION + "/submit", "200"),
        (("POST", "/v1/admin/applications/{application_id}/decisions"),),
        {"application_id": ID},
    ),
    Link(
        ("GET", "/v1/vouchers/{voucher_id}", "200"),
        (("POST", "/v1/provider/redemptions"),),
        body={"voucher_code": "$response.body#/code"},
    ),
    Link(
        ("GET", "/v1/vouchers/{voucher_id}", "200"),
        (("GET", "/v1/provider/vouchers/{code}"),),
        {"code": "$response.body#/code"},
    ),
    Link(
        ("POST", "/v1/provider/redemptions", "201"),
        (
            *_each("POST", REDEMPTION, "/capture", "/void", "/refunds"),
            ("GET", REDEMPTION),
        ),
        {"redemption_id": ID},
    ),
    Link(
        ("POST", REDEMPTION + "/capture", "200"),
        (("POST", REDEMPTION + "/refunds"), ("GET", REDEMPTION)),
        {"redemption_id": ID},
    ),
    Link(
        ("POST", "/v1/admin/settlements", "201"),
        (
            *_each("POST", SETTLEMENT, "/approve", "/pay"),
            *_each("GET", SETTLEMENT, "", "/items", "/export"),
            *_each("POST", "/v1/provider/settlements/{settlement_id}", "/confirm", "/dispute"),
        ),
        {"settlement_id": ID},
    ),
    Link(
        ("POST", SETTLEMENT + "/approve", "200"),
        (("POST", SETTLEMENT + "/pay"),),
        {"settlement_id": ID},
    ),
)


def _link_name(method: str, path: str) -> str:
    words = [part for part in path.split("/") if part and not part.startswith("{")]
    camel = (word.replace("-", " ").title().replace(" ", "") for word in words)
    return method.lower() + "".join(camel)


def add_links(document: dict[str, Any], links: tuple[Link, ...] = LINKS) -> dict[str, Any]:
    """Add ``links`` to the responses of ``document``; a link whose end is missing is skipped."""
    paths = document.get("paths", {})
    for link in links:
        method, path, status = link.source
        response = paths.get(path, {}).get(method.lower(), {}).get("responses", {}).get(status)
        if response is None:
            continue
        for target_method, target_path in link.targets:
            target = paths.get(target_path, {}).get(target_method.lower())
            if target is None or "operationId" not in target:
                continue
            definition: dict[str, Any] = {"operationId": target["operationId"]}
            if link.parameters:
                definition["parameters"] = {
                    name: expression
                    for name, expression in link.parameters.items()
                    if "{" + name + "}" in target_path
                }
            if link.body is not None:
                definition["requestBody"] = dict(link.body)
            response.setdefault("links", {})[_link_name(target_method, target_path)] = definition
    return document


PROBLEM = {"$ref": "#/components/schemas/Problem"}
_VALIDATION_ERROR = {"$ref": "#/components/schemas/HTTPValidationError"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM}}}


def _takes(operation: dict[str, Any], where: str, name: str) -> bool:
    parameters = operation.get("parameters", [])
    return any(p.get("in") == where and p.get("name", "").lower() == name for p in parameters)


def _shared_problems(operation: dict[str, Any]) -> dict[str, str]:
    """Status -> what the shared layers may answer ``operation`` with."""
    problems = {"503": "`service_unavailable`, `request_deadline_exceeded` (with `Retry-After`)"}
    if _takes(operation, "query", "cursor"):
        problems["400"] = "`invalid_cursor`"
    if "requestBody" in operation:
        problems["400"] = "`malformed_json` or another unreadable body"
        problems["413"] = "`payload_too_large`"
        problems["415"] = "`unsupported_media_type` (compressed bodies)"
    if _takes(operation, "header", "idempotency-key"):
        problems["400"] = "`idempotency_key_invalid`, `malformed_json`, an unreadable body"
        problems["409"] = "`idempotency_request_in_progress` (with `Retry-After`)"
        problems["422"] = "`idempotency_key_reused`, `validation_error`"
    return problems


def document_shared_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Add the shared layers' problems an operation does not document yet, and state every 422
    as the problem it is."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _shared_problems(operation).items():
                responses.setdefault(status, _problem(f"Problem: {description}"))
            validation = responses.get("422", {}).get("content", {}).get("application/json")
            if validation and validation.get("schema") == _VALIDATION_ERROR:
                responses["422"] = _problem("Problem: `validation_error`")
    return document


def install_openapi_additions(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with links and the shared problems added."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_shared_problems(add_links(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
