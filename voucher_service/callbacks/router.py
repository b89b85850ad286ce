"""``POST /v1/provider/callbacks``: a provider's signed, idempotent callbacks to the authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from providers.callbacks import CallbackError, callbacks
from voucher_service.audit import service as audit
from voucher_service.auth.dependencies import CurrentProvider
from voucher_service.callbacks import (
    handlers,  # noqa: F401 (registers the handlers)
    service,
)
from voucher_service.callbacks.schemas import (
    REQUEST_BODY,
    SIGNATURE_EXAMPLE,
    CallbackReceiptPublic,
    describe,
)
from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.kit.problems import problem_responses

router = APIRouter(tags=["provider callbacks"])


@router.post(
    "/v1/provider/callbacks",
    summary="Send a signed callback (statement, settlement confirmation or dispute)",
    description=describe(callbacks),
    responses=problem_responses(400, 401, 403, 422, 429),
    openapi_extra=REQUEST_BODY,
)
async def receive_callback(
    request: Request,
    principal: CurrentProvider,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    jws_signature: Annotated[
        str | None,
        Header(
            description="`<protected header>..<signature>`: a JWS over the body, detached",
            examples=[SIGNATURE_EXAMPLE],
        ),
    ] = None,
) -> CallbackReceiptPublic:
    """Verified, fresh, stored once and handled once; a retry gets the stored outcome."""
    body = await request.body()
    try:
        receipt = await service.receive_callback(session, settings, principal, body, jws_signature)
    except CallbackError as exc:
        # Refusals outlive the request's rollback: forged or replayed callbacks must be visible.
        await audit.record_separately(
            database,
            action="callback.refused",
            actor=principal,
            target=("api_client", principal.id),
            reason=exc.code,
        )
        raise
    return CallbackReceiptPublic.of(receipt)
