"""The provider's statements: upload one (CSV or JSON lines, UTF-8 or GBK) and read the
reconciliation report it produced, with its export; the list of past reports.

The upload runs the API's own upload (``POST /v1/provider/statements``: the statement spooled to
a file, checked, matched and audited in one unit of work); the report pages read through the
API's loaders, so another provider's report is "not found" here as there.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from voucher_service.auth.dependencies import ProviderOperator
from voucher_service.auth.principal import Principal
from voucher_service.db import Database
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import ExportFormat, ExportOptions
from voucher_service.organisations.models import Organisation
from voucher_service.portal import forms
from voucher_service.portal.flash import Flash
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import portal_language, redirect, render
from voucher_service.reconciliation import router as reconciliation_api
from voucher_service.reconciliation.errors import (
    StatementEmpty,
    StatementEncodingUnsupported,
    StatementHeaderInvalid,
    StatementPeriodInvalid,
)
from voucher_service.reconciliation.models import Reconciliation, ReconciliationStatus
from voucher_service.reconciliation.router import OwnReport

router = portal_router("/provider")
STATEMENTS = "/portal/provider/statements"
REPORTS = "/portal/provider/reconciliations"
Cursor = Annotated[str, Query(max_length=400)]
PAGE = 100


class StatementPeriod(BaseModel):
    """The period a statement covers (Beijing dates, inclusive)."""

    model_config = ConfigDict(extra="ignore")

    period_start_on: date
    period_end_on: date


async def reports_page(
    session: AsyncSession, query: Any, cursor: str, form: Form, request: Request
) -> tuple[Any, str | None, dict[Any, str]]:
    """A page of reports (newest first), the next cursor, and their providers' names."""
    rows, next_cursor = await forms.keyset_page(
        session, form, portal_language(request), query, Reconciliation.id, cursor
    )
    ids = {r.provider_id for r in rows}
    names = await session.execute(
        select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    )
    return rows, next_cursor, {row[0]: row[1] for row in names}


async def report_context(
    session: AsyncSession, report: Reconciliation, cursor: str
) -> dict[str, Any]:
    """The report, with a page of its bad lines (rejected) or of its differences."""
    rejected = report.status == ReconciliationStatus.rejected
    if rejected:
        page: Any = await reconciliation_api.own_errors(session, report, PAGE, cursor or None)
    else:
        page = await reconciliation_api.own_differences(session, report, PAGE, cursor or None)
    provider = await session.get(Organisation, report.provider_id)
    return {
        "report": report,
        "provider_name": provider.name if provider else "",
        "rejected": rejected,
        "rows": page.items,
        "next_cursor": page.next_cursor,
    }


def export_options(request: Request, format: str) -> ExportOptions:
    """CSV unless XLSX is asked for; column headers in the visitor's language."""
    chosen = ExportFormat.xlsx if format == "xlsx" else ExportFormat.csv
    return ExportOptions(chosen, portal_language(request))


async def _statements_page(
    request: Request,
    session: AsyncSession,
    provider_id: Any,
    form: Form,
    cursor: str = "",
    status: int = 200,
) -> Response:
    query = select(Reconciliation).where(col(Reconciliation.provider_id) == provider_id)
    rows, next_cursor, _names = await reports_page(session, query, cursor, Form(), request)
    context = {"reports": rows, "next_cursor": next_cursor, "form": form}
    return render(request, "reconciliation/statements.html", context, status=status)


@router.get("/statements")
async def statements(
    request: Request, principal: ProviderOperator, session: SessionDep, cursor: Cursor = ""
) -> Response:
    """The upload form and the provider's past reconciliation reports."""
    return await _statements_page(request, session, principal.organisation_id, Form(), cursor)


#: Where a refusal of the upload is shown: beside the file, or beside the period.
REFUSALS: dict[type[Exception], str] = {
    StatementEmpty: "file",
    StatementEncodingUnsupported: "file",
    StatementHeaderInvalid: "file",
    StatementPeriodInvalid: "period_start_on",
}


async def _read_upload(request: Request) -> tuple[Form, StatementPeriod | None]:
    """The period typed and whether a file was chosen (a field error if not)."""
    posted = await request.form()
    form = Form(
        {name: str(posted.get(name) or "").strip() for name in StatementPeriod.model_fields}
    )
    language = portal_language(request)
    period = forms.validate(form, StatementPeriod, form.values, language)
    upload = posted.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.errors["file"] = translate(language, N_("Choose the statement file."))
    return form, period


@router.post("/statements")
async def upload(request: Request, principal: ProviderOperator, session: SessionDep) -> Response:
    """Reconcile an uploaded statement (as ``POST /v1/provider/statements``); show the report."""
    try:
        return await _reconcile(request, principal, session)
    finally:
        await (await request.form()).close()  # the spooled upload, whatever happened


async def _reconcile(request: Request, principal: Principal, session: AsyncSession) -> Response:
    form, period = await _read_upload(request)
    provider_id = principal.organisation_id
    if period is None or form.invalid:
        return await _statements_page(request, session, provider_id, form, status=422)
    dates = (period.period_start_on, period.period_end_on)
    try:
        report = await forms.attempt(
            session,
            partial(reconciliation_api.upload_own, request, principal, session, *dates),
        )
    except forms.Refused as refused:
        forms.place(form, refused.reason, portal_language(request), REFUSALS)
        return await _statements_page(request, session, provider_id, form, status=422)
    message = Flash(N_("The statement is reconciled."))
    if report.status == ReconciliationStatus.rejected:
        message = Flash(N_("The statement has bad lines: nothing was imported."), "warn")
    return redirect(request, f"{REPORTS}/{report.id}", message)


@router.get("/reconciliations/{reconciliation_id}")
async def report_detail(
    request: Request,
    _principal: ProviderOperator,
    report: OwnReport,
    session: SessionDep,
    cursor: Cursor = "",
) -> Response:
    """One reconciliation report: totals, then differences or bad lines by line number."""
    context = {**await report_context(session, report, cursor), "base": REPORTS, "back": STATEMENTS}
    return render(request, "reconciliation/report.html", context)


async def export_report(
    request: Request, database: Database, report: Reconciliation, format: str
) -> Response:
    """The report's differences as CSV or XLSX (the API's export)."""
    return await reconciliation_api.own_export(database, report, export_options(request, format))


@router.get("/reconciliations/{reconciliation_id}/export")
async def report_export(
    request: Request,
    _principal: ProviderOperator,
    report: OwnReport,
    database: DatabaseDep,
    format: Annotated[str, Query(max_length=8)] = "csv",
) -> Response:
    return await export_report(request, database, report, format)
