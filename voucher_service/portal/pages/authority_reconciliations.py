"""The authority's reconciliation reports: every provider's, filtered by provider, with each
report's differences or bad lines and its export (the rules of ``/v1/admin/reconciliations``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from sqlmodel import col, select
from starlette.responses import Response

from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.portal import forms
from voucher_service.portal.forms import Form
from voucher_service.portal.pages.provider_statements import (
    export_report,
    report_context,
    reports_page,
)
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, render
from voucher_service.reconciliation.models import Reconciliation
from voucher_service.reconciliation.router import AdminReader, AnyReport

router = portal_router("/authority/reconciliations")
REPORTS = "/portal/authority/reconciliations"
Text = Annotated[str, Query(max_length=400)]


@router.get("")
async def report_list(
    request: Request,
    _principal: AdminReader,
    session: SessionDep,
    provider_id: Text = "",
    cursor: Text = "",
) -> Response:
    """Every provider's reconciliation reports, newest first, optionally of one provider."""
    form = Form({"provider_id": provider_id})
    query = select(Reconciliation)
    chosen = forms.parse_uuid(form, "provider_id", portal_language(request))
    if chosen is not None:
        query = query.where(col(Reconciliation.provider_id) == chosen)
    rows, next_cursor, names = await reports_page(session, query, cursor, form, request)
    providers = await session.execute(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.kind) == OrganisationKind.provider)
        .order_by(col(Organisation.name))
    )
    context = {
        "reports": rows,
        "next_cursor": next_cursor,
        "names": names,
        "providers": [(str(row[0]), row[1]) for row in providers],
        "form": form,
    }
    status = 422 if form.invalid else 200
    return render(request, "reconciliation/authority_list.html", context, status=status)


@router.get("/{reconciliation_id}")
async def report_detail(
    request: Request,
    _principal: AdminReader,
    report: AnyReport,
    session: SessionDep,
    cursor: Text = "",
) -> Response:
    context = {**await report_context(session, report, cursor), "base": REPORTS, "back": REPORTS}
    return render(request, "reconciliation/report.html", context)


@router.get("/{reconciliation_id}/export")
async def report_export(
    request: Request,
    _principal: AdminReader,
    report: AnyReport,
    database: DatabaseDep,
    format: Annotated[str, Query(max_length=8)] = "csv",
) -> Response:
    """The report's differences as CSV or XLSX."""
    return await export_report(request, database, report, format)
