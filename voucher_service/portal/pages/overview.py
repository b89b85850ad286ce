"""What the startup's dashboard shows of its applications and vouchers."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from voucher_service.applications import present, repository
from voucher_service.applications.models import Application
from voucher_service.kit.pagination import PageParams, paginate
from voucher_service.portal.pages.apply import open_programmes
from voucher_service.portal.pages.vouchers import held_vouchers
from voucher_service.programs import service as programs

#: The order the states are shown in: what needs the applicant first.
STATE_ORDER = (
    "returned",
    "draft",
    "submitted",
    "in_review",
    "publicity",
    "approved",
    "rejected",
    "withdrawn",
)


async def enterprise_overview(session: AsyncSession, organisation_id: uuid.UUID) -> dict[str, Any]:
    """Applications by state, the latest ones, vouchers with balances, programmes open now."""
    counted = dict(
        (
            await session.execute(
                select(col(Application.state), func.count())
                .where(col(Application.enterprise_id) == organisation_id)
                .group_by(col(Application.state))
            )
        ).all()
    )
    by_state = [(state, counted[state]) for state in STATE_ORDER if counted.get(state)]
    query = repository.list_query(enterprise_id=organisation_id)
    latest, _ = await paginate(session, query, Application.id, PageParams(5, None))  # type: ignore[arg-type]
    vouchers = await held_vouchers(session, organisation_id)
    program_ids = {v.program_id for v in vouchers} | {a.program_id for a in latest}
    return {
        "by_state": by_state,
        "latest": await present.summaries(session, latest),
        "vouchers": vouchers,
        "programs": {p: (await programs.get_program(session, p)).name for p in program_ids},
        "open_programmes": await open_programmes(session),
        "balance_total": sum(v.available_amount for v in vouchers if v.state == "active"),
    }
