"""``/v1/admin/ledger/...``: trial balance, health, verify, accounts and statements."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from voucher_service.audit import service as audit
from voucher_service.auth.dependencies import requires_roles
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import KeyRingDep, SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep
from voucher_service.kit.problems import problem_responses
from voucher_service.ledger_admin import service
from voucher_service.ledger_admin.schemas import (
    AccountPublic,
    LedgerHealthPublic,
    StatementPagePublic,
    TrialBalancePublic,
    VerifyRunPublic,
)
from voucher_service.users.models import Role

router = APIRouter(prefix="/v1/admin/ledger", tags=["ledger"], route_class=IdempotentRoute)
LedgerReader = Annotated[
    Principal, requires_roles(Role.finance, Role.auditor, Role.sysadmin, Role.program_admin)
]
Verifier = Annotated[Principal, requires_roles(Role.finance, Role.auditor, Role.sysadmin)]
AUTH = problem_responses(401, 403)


@router.get("/trial-balance", summary="Every account summed, per kind and overall", responses=AUTH)
async def trial_balance(_principal: LedgerReader, session: SessionDep) -> TrialBalancePublic:
    return await service.trial_balance(session)


@router.get(
    "/health", summary="Balanced, last verify run and last sealed checkpoint", responses=AUTH
)
async def health(_principal: LedgerReader, session: SessionDep) -> LedgerHealthPublic:
    return await service.health(session)


@router.post(
    "/verify", summary="Recompute the whole ledger now and store the result", responses=AUTH
)
async def verify(principal: Verifier, session: SessionDep, keyring: KeyRingDep) -> VerifyRunPublic:
    run = await service.run_verify(session, keyring, principal.id)
    await audit.record(
        session,
        action="ledger.verified",
        actor=principal,
        target=("ledger_verify_run", run.id),
        after={"ok": run.ok, "breaks": len(run.breaks)},
    )
    return VerifyRunPublic.model_validate(run, from_attributes=True)


@router.get("/accounts", summary="Ledger accounts with their totals", responses=AUTH)
async def accounts(
    _principal: LedgerReader,
    session: SessionDep,
    page: PageParamsDep,
    code_prefix: Annotated[str | None, Query(max_length=200, examples=["provider:"])] = None,
) -> Page[AccountPublic]:
    items, cursor = await service.list_accounts(session, page, code_prefix)
    return Page[AccountPublic](items=items, next_cursor=cursor)


@router.get(
    "/accounts/{account_id}/statement",
    summary="An account's legs, newest first (keyset: every page is one index range)",
    responses=problem_responses(401, 403, 404, 422),
)
async def statement(
    _principal: LedgerReader,
    session: SessionDep,
    account_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    oldest_first: bool = False,
) -> StatementPagePublic:
    return await service.account_statement(
        session, account_id, limit, cursor, newest=not oldest_first
    )
