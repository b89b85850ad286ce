"""Public programme pages: every published programme, and one programme's rules in plain words."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import SessionDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal import rules_text
from voucher_service.portal.auth import Viewer
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, render
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program, ProgramStatus

router = portal_router("/programmes")
PUBLISHED = (ProgramStatus.open, ProgramStatus.closed)


@router.get("")
async def programme_list(request: Request, _viewer: Viewer, session: SessionDep) -> Response:
    """Open programmes first, then closed ones; drafts and archived ones are not public."""
    rows = (
        await session.scalars(
            select(Program)
            .where(col(Program.status).in_(PUBLISHED))
            .order_by(col(Program.status).desc(), col(Program.opens_on).desc())
        )
    ).all()
    language = portal_language(request)
    cards = [(p, rules_text.tier_sentences(p, language)) for p in rows]
    return render(request, "programmes/list.html", {"cards": cards})


async def published_program(
    session: SessionDep, program_id: Annotated[uuid.UUID, Path()]
) -> Program:
    program = await session.get(Program, program_id)
    if program is None or program.status not in PUBLISHED:
        raise NotFound()
    return program


@router.get("/{program_id}")
async def programme_detail(
    request: Request, _viewer: Viewer, session: SessionDep, program_id: Annotated[uuid.UUID, Path()]
) -> Response:
    program = await published_program(session, program_id)
    language = portal_language(request)
    provider_ids = await programs.eligible_provider_ids(session, program.id)
    providers = (
        (
            await session.scalars(
                select(Organisation.name).where(col(Organisation.id).in_(provider_ids))
            )
        ).all()
        if provider_ids
        else []
    )
    context = {
        "program": program,
        "tiers": rules_text.tier_sentences(program, language),
        "caps": rules_text.cap_sentences(program, language),
        "validity": rules_text.validity_sentence(program, language),
        "period": rules_text.eligible_period(program, language),
        "stages": rules_text.stages(program, language),
        "providers": sorted(providers),
        "figures": await programs.figures(session, program),
    }
    return render(request, "programmes/detail.html", context)
