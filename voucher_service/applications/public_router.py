"""Public routes (no login): the publicity page and objections to listed awards."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from ledger.sqltypes import utcnow
from voucher_service.applications import publicity
from voucher_service.applications.schemas import ObjectionCreate, ObjectionReceipt, PublicityEntry
from voucher_service.dependencies import DatabaseDep, SessionDep, SettingsDep
from voucher_service.kit.context import current_client_address
from voucher_service.kit.pagination import Page, PageParamsDep, encode_cursor
from voucher_service.kit.problems import problem_responses
from voucher_service.ratelimit import service as ratelimit

router = APIRouter(tags=["publicity (public)"])


@router.get("/v1/publicity", summary="Awards in publicity (公示) now; no login needed")
async def list_publicity(session: SessionDep, page: PageParamsDep) -> Page[PublicityEntry]:
    items = list(await publicity.listed(session, utcnow(), after=page.after, limit=page.limit + 1))
    cursor = None
    if len(items) > page.limit:
        items = items[: page.limit]
        cursor = encode_cursor(items[-1].id)
    return Page[PublicityEntry](items=items, next_cursor=cursor)


@router.post(
    "/v1/publicity/{application_id}/objections",
    summary="Raise an objection to an award in publicity (no login; rate-limited)",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(404, 422, 429),
)
async def raise_objection(
    body: ObjectionCreate,
    database: DatabaseDep,
    settings: SettingsDep,
    session: SessionDep,
    application_id: Annotated[uuid.UUID, Path()],
) -> ObjectionReceipt:
    address = current_client_address.get() or "unknown"
    await ratelimit.check(
        database,
        [
            ratelimit.Limit(
                ratelimit.key_for("objection", "address", address),
                settings.rate_limit_objection_per_address,
            )
        ],
        window_seconds=settings.rate_limit_window_seconds,
    )
    objection = await publicity.object_to(
        session, application_id, body, now=utcnow(), address=address
    )
    return ObjectionReceipt(id=objection.id, created_at=objection.created_at)
