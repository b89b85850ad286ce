"""HTTP routes of programmes.

Who may call them: programme administrators create and configure programmes (rules while a
draft, eligible providers, price ceilings) and open, close and archive them; **finance** funds
them (moving budget from the treasury is a money decision, kept apart from configuring the
rules); every authority user reads them and their figures; anyone reads published (non-draft)
programmes at ``/v1/programs``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Path, Query, Response, status
from sqlmodel import col, select

from voucher_service.auth.dependencies import AuthorityUser, requires_roles
from voucher_service.auth.dependencies import ProgramAdmin as Configurer
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.programs import configuration
from voucher_service.programs import service as programs
from voucher_service.programs.errors import IdempotencyKeyRequired, ProgramNotFound
from voucher_service.programs.models import PriceCeiling, Program, ProgramKind, ProgramStatus
from voucher_service.programs.schemas import (
    FiguresOut,
    Funding,
    FundingOut,
    PriceCeilingIn,
    PriceCeilingOut,
    ProgramAdmin,
    ProgramCreate,
    ProgramPublic,
    ProgramRules,
    ProviderListing,
)
from voucher_service.users.models import Role

router = APIRouter(tags=["programmes"], route_class=IdempotentRoute)
# Funding is idempotent in the ledger itself (its key is the transfer's, for ever, and the answer
# says ``replayed``): the idempotency layer in front would shadow that contract.
ledger_keyed = APIRouter(tags=["programmes"])
Shape = TypeVar("Shape", bound=ProgramPublic)
ProgramId = Annotated[uuid.UUID, Path()]
Finance = Annotated[Principal, requires_roles(Role.finance, approves_money=True)]
CHANGE = problem_responses(401, 403, 404, 409, 422)
READ = problem_responses(401, 403, 404)
PUBLISHED = (ProgramStatus.open, ProgramStatus.closed, ProgramStatus.archived)


async def _ceilings(session: SessionDep, program_id: uuid.UUID) -> list[PriceCeilingOut]:
    rows = await session.scalars(
        select(PriceCeiling)
        .where(col(PriceCeiling.program_id) == program_id)
        .order_by(col(PriceCeiling.resource), col(PriceCeiling.unit))
    )
    return [PriceCeilingOut.model_validate(row) for row in rows]


async def present(
    session: SessionDep, program: Program, model: type[Shape], *, with_figures: bool = True
) -> Shape:
    """The programme for ``model``'s audience, with providers, ceilings and ledger figures."""
    shaped = model.model_validate(program)
    extra: dict[str, object] = {
        "provider_ids": await programs.eligible_provider_ids(session, program.id),
        "price_ceilings": await _ceilings(session, program.id),
    }
    if with_figures:
        figures = await programs.figures(session, program)
        extra["figures"] = FiguresOut.model_validate(figures, from_attributes=True)
    return shaped.model_copy(update=extra)


# --- public ---------------------------------------------------------------------------------


@router.get("/v1/programs", summary="Published programmes (open, closed, archived)")
async def list_published(
    session: SessionDep,
    page: PageParamsDep,
    kind: Annotated[ProgramKind | None, Query()] = None,
    status_filter: Annotated[ProgramStatus | None, Query(alias="status")] = None,
) -> Page[ProgramPublic]:
    query = select(Program).where(col(Program.status).in_(PUBLISHED))
    if kind is not None:
        query = query.where(col(Program.kind) == kind)
    if status_filter is not None:
        query = query.where(col(Program.status) == status_filter)
    rows, cursor = await paginate(session, query, Program.id, page)  # type: ignore[arg-type]
    items = [await present(session, row, ProgramPublic, with_figures=False) for row in rows]
    return Page[ProgramPublic](items=items, next_cursor=cursor)


@router.get(
    "/v1/programs/{program_id}",
    summary="A published programme: rules, windows, providers, ceilings and figures",
    responses=problem_responses(404),
)
async def get_published(session: SessionDep, program_id: ProgramId) -> ProgramPublic:
    program = await programs.get_program(session, program_id)
    if program.status not in PUBLISHED:
        raise ProgramNotFound()
    return await present(session, program, ProgramPublic)


# --- authority --------------------------------------------------------------------------------


@router.get("/v1/admin/programs", summary="Programmes", responses=problem_responses(401, 403))
async def list_programs(
    _principal: AuthorityUser,
    session: SessionDep,
    page: PageParamsDep,
    status_filter: Annotated[ProgramStatus | None, Query(alias="status")] = None,
) -> Page[ProgramAdmin]:
    query = select(Program)
    if status_filter is not None:
        query = query.where(col(Program.status) == status_filter)
    rows, cursor = await paginate(session, query, Program.id, page)  # type: ignore[arg-type]
    items = [await present(session, row, ProgramAdmin, with_figures=False) for row in rows]
    return Page[ProgramAdmin](items=items, next_cursor=cursor)


@router.post(
    "/v1/admin/programs",
    summary="Create a draft programme",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
)
async def create_program(
    body: ProgramCreate, principal: Configurer, session: SessionDep
) -> ProgramAdmin:
    values = body.changes() | {"kind": body.kind}
    program = await configuration.create_program(session, values, actor=principal)
    return await present(session, program, ProgramAdmin)


@router.get("/v1/admin/programs/{program_id}", summary="One programme", responses=READ)
async def get_program(
    _principal: AuthorityUser, session: SessionDep, program_id: ProgramId
) -> ProgramAdmin:
    return await present(session, await programs.get_program(session, program_id), ProgramAdmin)


@router.patch(
    "/v1/admin/programs/{program_id}",
    summary="Change a draft programme's rules",
    responses=CHANGE,
)
async def update_program(
    body: ProgramRules, principal: Configurer, session: SessionDep, program_id: ProgramId
) -> ProgramAdmin:
    program = await programs.get_program(session, program_id, for_update=True)
    await configuration.update_program(session, program, body.changes(), actor=principal)
    return await present(session, program, ProgramAdmin)


@ledger_keyed.post(
    "/v1/admin/programs/{program_id}/fund",
    summary="Fund a programme from the treasury (finance; idempotent by key)",
    responses=CHANGE,
)
async def fund(
    body: Funding,
    principal: Finance,
    session: SessionDep,
    program_id: ProgramId,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> FundingOut:
    key = idempotency_key or body.client_reference
    if not key:
        raise IdempotencyKeyRequired(
            "Send an Idempotency-Key header (or client_reference) so a retry cannot fund twice.",
            detail_zh="请提供 Idempotency-Key 请求头（或 client_reference），以免重试时重复拨款。",
        )
    program = await programs.get_program(session, program_id)
    outcome = await configuration.fund(
        session, program, amount=body.amount, key=key, actor=principal, note=body.note
    )
    return FundingOut(
        transaction_id=outcome.transaction.id,
        amount=body.amount,
        replayed=outcome.replayed,
        available_amount=await programs.remaining_budget(session, program),
    )


@router.post(
    "/v1/admin/programs/{program_id}/open",
    summary="Publish a draft: its rules freeze and applications open in its window",
    responses=CHANGE,
)
async def open_program(
    principal: Configurer, session: SessionDep, program_id: ProgramId
) -> ProgramAdmin:
    program = await programs.get_program(session, program_id)
    program = await configuration.open_program(session, program, actor=principal)
    return await present(session, program, ProgramAdmin)


@router.post(
    "/v1/admin/programs/{program_id}/close",
    summary="Stop accepting applications (issued vouchers stay valid)",
    responses=CHANGE,
)
async def close_program(
    principal: Configurer, session: SessionDep, program_id: ProgramId
) -> ProgramAdmin:
    program = await programs.get_program(session, program_id)
    program = await configuration.close_program(session, program, actor=principal)
    return await present(session, program, ProgramAdmin)


@router.post(
    "/v1/admin/programs/{program_id}/archive",
    summary="Archive a closed programme",
    responses=CHANGE,
)
async def archive_program(
    principal: Configurer, session: SessionDep, program_id: ProgramId
) -> ProgramAdmin:
    program = await programs.get_program(session, program_id)
    program = await configuration.archive_program(session, program, actor=principal)
    return await present(session, program, ProgramAdmin)


@router.get(
    "/v1/admin/programs/{program_id}/figures",
    summary="The programme's money, from the ledger",
    responses=READ,
)
async def get_figures(
    _principal: AuthorityUser, session: SessionDep, program_id: ProgramId
) -> FiguresOut:
    program = await programs.get_program(session, program_id)
    figures = await programs.figures(session, program)
    return FiguresOut.model_validate(figures, from_attributes=True)


@router.get(
    "/v1/admin/programs/{program_id}/providers",
    summary="The programme's eligible providers",
    responses=READ,
)
async def list_eligible_providers(
    _principal: AuthorityUser, session: SessionDep, program_id: ProgramId
) -> list[uuid.UUID]:
    program = await programs.get_program(session, program_id)
    return await programs.eligible_provider_ids(session, program.id)


@router.post(
    "/v1/admin/programs/{program_id}/providers",
    summary="Add a registered provider to the programme's list",
    status_code=status.HTTP_201_CREATED,
    responses=CHANGE,
)
async def add_eligible_provider(
    body: ProviderListing, principal: Configurer, session: SessionDep, program_id: ProgramId
) -> list[uuid.UUID]:
    program = await programs.get_program(session, program_id)
    await configuration.add_eligible_provider(session, program, body.provider_id, actor=principal)
    return await programs.eligible_provider_ids(session, program.id)


@router.delete(
    "/v1/admin/programs/{program_id}/providers/{provider_id}",
    summary="Take a provider off the programme's list (issued vouchers keep it)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGE,
)
async def remove_eligible_provider(
    principal: Configurer, session: SessionDep, program_id: ProgramId, provider_id: uuid.UUID
) -> Response:
    program = await programs.get_program(session, program_id)
    await configuration.remove_eligible_provider(session, program, provider_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/admin/programs/{program_id}/price-ceilings",
    summary="The programme's maximum unit prices",
    responses=READ,
)
async def list_price_ceilings(
    _principal: AuthorityUser, session: SessionDep, program_id: ProgramId
) -> list[PriceCeilingOut]:
    program = await programs.get_program(session, program_id)
    return await _ceilings(session, program.id)


@router.put(
    "/v1/admin/programs/{program_id}/price-ceilings",
    summary="Set the maximum unit price for a resource and unit",
    responses=CHANGE,
)
async def set_price_ceiling(
    body: PriceCeilingIn, principal: Configurer, session: SessionDep, program_id: ProgramId
) -> PriceCeilingOut:
    program = await programs.get_program(session, program_id)
    ceiling = await configuration.set_price_ceiling(
        session, program, actor=principal, **body.model_dump()
    )
    return PriceCeilingOut.model_validate(ceiling)


router.include_router(ledger_keyed)
