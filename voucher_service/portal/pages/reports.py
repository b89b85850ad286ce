"""The authority's programme pages: every programme with its money, and one programme's report
with charts (budget burn-down, redemptions per provider per month, approval funnel).

Figures come from the programmes service (the ledger); the series are read from the tables of
the applications, vouchers and redemptions they describe. Rule: ``/v1/admin/programs``'.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Annotated

from fastapi import Path, Request
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.applications.models import Application
from voucher_service.auth.dependencies import AuthorityUser
from voucher_service.dependencies import SessionDep
from voucher_service.kit.i18n import Language
from voucher_service.organisations.models import Organisation
from voucher_service.portal import charts
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import SHANGHAI, portal_language, render, yuan
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program
from voucher_service.redemptions.models import Redemption
from voucher_service.vouchers.models import Voucher

router = portal_router("/authority/programmes")


def _day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()


def _month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


@router.get("")
async def programme_list(
    request: Request, _principal: AuthorityUser, session: SessionDep
) -> Response:
    rows = list(await session.scalars(select(Program).order_by(col(Program.id).desc())))
    figures = {p.id: await programs.figures(session, p) for p in rows}
    return render(request, "authority/programmes.html", {"rows": rows, "figures": figures})


async def burn_down(
    session: AsyncSession, program: Program, budget: int, lang: Language
) -> charts.Chart:
    """Budget not yet committed after each day on which vouchers were issued."""
    issued = (
        await session.execute(
            select(Voucher.created_at, Voucher.issued_amount)
            .where(col(Voucher.program_id) == program.id)
            .order_by(col(Voucher.created_at))
        )
    ).all()
    per_day: dict[str, int] = defaultdict(int)
    for created_at, amount in issued:
        per_day[_day(created_at)] += amount
    # The programme's start, before any award: the whole budget still to commit.
    days, left, committed, total = [translate(lang, N_("Start"))], [budget], [0], 0
    for day in sorted(per_day):
        total += per_day[day]
        days.append(day)
        committed.append(total)
        left.append(max(budget - total, 0))
    return charts.line_chart(
        "burn-down",
        translate(lang, N_("Budget burn-down")),
        translate(
            lang,
            N_(
                "Budget still to commit, and value committed to vouchers, after each day of awards."
            ),
        ),
        label_header=translate(lang, N_("Day")),
        labels=days,
        series=[
            charts.Series(translate(lang, N_("Still to commit")), left),
            charts.Series(translate(lang, N_("Committed")), committed),
        ],
        area=True,
        value_format=yuan,
        axis_format=charts.compact_yuan(lang),
    )


async def redemptions_by_provider(
    session: AsyncSession, program: Program, lang: Language
) -> charts.Chart:
    """Value captured (less refunds) per provider per month."""
    rows = (
        await session.execute(
            select(
                Redemption.provider_id,
                Redemption.captured_at,
                Redemption.captured_amount,
                Redemption.refunded_amount,
            ).where(
                col(Redemption.program_id) == program.id, col(Redemption.captured_at).is_not(None)
            )
        )
    ).all()
    totals: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for provider_id, captured_at, captured, refunded in rows:
        totals[(provider_id, _month(captured_at))] += captured - refunded
    months = sorted({month for _, month in totals})
    provider_ids = sorted({provider for provider, _ in totals})
    names = (
        dict(
            (
                await session.execute(
                    select(Organisation.id, Organisation.name).where(
                        col(Organisation.id).in_(provider_ids)
                    )
                )
            ).all()
        )
        if provider_ids
        else {}
    )
    series = [
        charts.Series(names.get(p, str(p)), [totals.get((p, month), 0) for month in months])
        for p in provider_ids
    ]
    return charts.grouped_bars(
        "redemptions",
        translate(lang, N_("Redemptions per provider per month")),
        translate(
            lang, N_("Value deducted from bills (captured, less refunds), by provider and month.")
        ),
        label_header=translate(lang, N_("Month")),
        labels=months,
        series=series,
        value_format=yuan,
        axis_format=charts.compact_yuan(lang),
    )


async def approval_funnel(session: AsyncSession, program: Program, lang: Language) -> charts.Chart:
    """Applications submitted → past the first review → reached publicity → approved."""
    counts = dict(
        (
            await session.execute(
                select(col(Application.state), func.count())
                .where(
                    col(Application.program_id) == program.id,
                    col(Application.submitted_at).is_not(None),
                )
                .group_by(col(Application.state))
            )
        ).all()
    )
    past_first = await session.scalar(
        select(func.count()).where(
            col(Application.program_id) == program.id,
            col(Application.submitted_at).is_not(None),
            (col(Application.stage_index) >= 1)
            | col(Application.state).in_(["publicity", "approved"]),
        )
    )
    submitted = sum(counts.values())
    stages = [
        (translate(lang, N_("Submitted")), submitted),
        (translate(lang, N_("Past the first review")), past_first or 0),
        (
            translate(lang, N_("Reached publicity")),
            counts.get("publicity", 0) + counts.get("approved", 0),
        ),
        (translate(lang, N_("Approved")), counts.get("approved", 0)),
    ]
    return charts.funnel(
        "funnel",
        translate(lang, N_("Approval funnel")),
        translate(lang, N_("How many submitted applications reached each step of the review.")),
        label_header=translate(lang, N_("Step")),
        value_header=translate(lang, N_("Applications")),
        share_header=translate(lang, N_("Share of submitted")),
        stages=stages if submitted else [],
    )


@router.get("/{program_id}")
async def programme_report(
    request: Request,
    _principal: AuthorityUser,
    session: SessionDep,
    program_id: Annotated[uuid.UUID, Path()],
) -> Response:
    program = await programs.get_program(session, program_id)
    figures = await programs.figures(session, program)
    lang = portal_language(request)
    context = {
        "program": program,
        "figures": figures,
        "burn_down": await burn_down(session, program, figures.budget, lang),
        "redemptions": await redemptions_by_provider(session, program, lang),
        "funnel": await approval_funnel(session, program, lang),
    }
    return render(request, "authority/programme_report.html", context)
