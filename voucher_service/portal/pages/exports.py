"""Every CSV/XLSX export the authority can take, on one page, with Chinese or English headers.

The files are the API's own exports (the same route functions, so the same columns and
streaming); these routes only let the browser's portal session in, under the API routes' rules.
The audit log's export stays on the audit page, and the open-data awards are public.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Path, Query, Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.auth.dependencies import AuditReader
from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import ExportFormat, ExportOptionsDep
from voucher_service.organisations.models import Organisation
from voucher_service.portal.forms import Form
from voucher_service.portal.navigation import roles_of
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, render
from voucher_service.programs.models import Program
from voucher_service.reconciliation import router as reconciliation_api
from voucher_service.reconciliation.models import Reconciliation
from voucher_service.reports import router as reports_api
from voucher_service.settlements import router as settlements_api
from voucher_service.settlements.models import Settlement

router = portal_router("/authority/exports")
RECENT = 20
ExportReader = reports_api.Reader  # finance, programme administrators, auditors, sysadmins
#: The programme reports that can be downloaded, by their name in the URL.
REPORTS: dict[str, Callable[..., Awaitable[Response]]] = {
    "redemptions": reports_api.redemptions,
    "top-enterprises": reports_api.top_enterprises,
    "burn-down": reports_api.burn_down,
}
#: Every redemption of a programme, a row each (streamed; only ever a file).
REDEMPTION_LIST = "redemption-list"


@router.get("")
async def export_list(
    request: Request,
    principal: ExportReader,
    session: SessionDep,
    format: Annotated[str, Query(max_length=10)] = "csv",
    lang: Annotated[str, Query(max_length=5)] = "",
) -> Response:
    """What can be exported, each a link with the chosen file type and header language."""
    chosen = {
        "format": format if format in set(ExportFormat) else "csv",
        "lang": lang if lang in ("zh", "en") else portal_language(request),
    }
    programmes = (await session.scalars(select(Program).order_by(col(Program.id).desc()))).all()
    settlements = (
        await session.scalars(select(Settlement).order_by(col(Settlement.id).desc()).limit(RECENT))
    ).all()
    reconciliations = (
        await session.scalars(
            select(Reconciliation).order_by(col(Reconciliation.id).desc()).limit(RECENT)
        )
    ).all()
    names = await _names(
        session, {s.payee_id for s in settlements} | {r.provider_id for r in reconciliations}
    )
    context = {
        "form": Form(chosen),
        "query": chosen,
        "programmes": programmes,
        "settlements": settlements,
        "reconciliations": reconciliations,
        "names": names,
        "reports": [*REPORTS, REDEMPTION_LIST],
        "can_read_audit": principal.role in roles_of(AuditReader),
    }
    return render(request, "authority/exports.html", context)


async def _names(session: SessionDep, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    )
    return {row[0]: row[1] for row in rows.all()}


@router.get("/settlements/{settlement_id}")
async def settlement_file(
    principal: settlements_api.Reader,
    database: DatabaseDep,
    settlement: settlements_api.AnySettlement,
    options: ExportOptionsDep,
) -> Response:
    """A settlement's items (``GET /v1/admin/settlements/{id}/export``), streamed."""
    return await settlements_api.admin_export(principal, database, settlement, options)


@router.get("/reconciliations/{reconciliation_id}")
async def reconciliation_file(
    principal: reconciliation_api.AdminReader,
    database: DatabaseDep,
    report: reconciliation_api.AnyReport,
    options: ExportOptionsDep,
) -> Response:
    """A reconciliation's differences (``GET /v1/admin/reconciliations/{id}/export``)."""
    return await reconciliation_api.admin_export(principal, database, report, options)


def _file(options: reports_api.ReportOptions) -> reports_api.ReportOptions:
    """The portal downloads files: a report asked for as JSON comes as CSV."""
    return dataclasses.replace(options, format="csv") if options.format == "json" else options


@router.get(f"/programmes/{{program_id}}/{REDEMPTION_LIST}")
async def programme_redemption_list(
    principal: ExportReader,
    database: DatabaseDep,
    program: reports_api.ProgramDep,
    options: reports_api.Options,
) -> Response:
    """Every redemption of the programme (``GET /v1/admin/reports/programs/{id}/redemption-list``).

    Declared before the route below, which would otherwise take its name for a report's."""
    return await reports_api.redemption_list_export(principal, database, program, _file(options))


@router.get("/programmes/{program_id}/{report}")
async def programme_file(
    principal: ExportReader,
    session: SessionDep,
    program: reports_api.ProgramDep,
    options: reports_api.Options,
    report: Annotated[str, Path(max_length=40)],
) -> Response:
    """A programme report (``GET /v1/admin/reports/programs/{id}/...``) as a file, never JSON."""
    answer = REPORTS.get(report)
    if answer is None:
        raise NotFound()
    arguments: dict[str, Any] = {"options": _file(options)}
    if report == "top-enterprises":
        arguments["limit"] = 100
    return await answer(principal, session, program, **arguments)
