"""The audit log viewer and its CSV export (auditors and system administrators, as the API)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from voucher_service.audit import export, repository
from voucher_service.audit.models import AuditEvent
from voucher_service.audit.repository import AuditFilters
from voucher_service.audit.schemas import AuditEventPublic
from voucher_service.auth.dependencies import AuditReader
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import ExportFormat, ExportOptions, export_response
from voucher_service.kit.i18n import Language
from voucher_service.portal import forms, labels
from voucher_service.portal.forms import Form
from voucher_service.portal.i18n import N_, translate
from voucher_service.portal.routing import portal_router
from voucher_service.portal.templating import SHANGHAI, portal_language, render

router = portal_router("/authority/audit")
FILTERS = (
    "action_prefix",
    "outcome",
    "actor_id",
    "organisation_id",
    "target_type",
    "target_id",
    "request_id",
    "since",
    "until",
)
Text = Annotated[str, Query(max_length=128)]


def _day(form: Form, name: str, language: Language) -> date | None:
    raw = form.values.get(name) or ""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        form.errors[name] = translate(language, N_("Enter a date, like 2024-03-18."))
        return None


def _start_of(day: date | None) -> datetime | None:
    """Midnight at the start of ``day``, Beijing time (the day the person means)."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI) if day else None


def filters_from(form: Form, language: Language) -> AuditFilters:
    """The API's filters from the viewer's form (``until`` includes the whole day)."""
    outcome = form.values.get("outcome") or None
    if outcome and outcome not in ("success", "failure"):
        form.errors["outcome"] = translate(language, N_("Choose one of the options."))
    since, until = _day(form, "since", language), _day(form, "until", language)
    return AuditFilters(
        action_prefix=form.values.get("action_prefix") or None,
        outcome=outcome,
        actor_id=forms.parse_uuid(form, "actor_id", language),
        organisation_id=forms.parse_uuid(form, "organisation_id", language),
        target_type=form.values.get("target_type") or None,
        target_id=form.values.get("target_id") or None,
        request_id=form.values.get("request_id") or None,
        since=_start_of(since),
        until=_start_of(until + timedelta(days=1) if until else None),
    )


def _form(request: Request) -> Form:
    return Form({name: request.query_params.get(name, "").strip()[:128] for name in FILTERS})


@router.get("")
async def audit_log(
    request: Request, _principal: AuditReader, session: SessionDep, cursor: Text = ""
) -> Response:
    """Audit events, newest first, filtered; keyset pages; the same filters export as CSV."""
    form, language = _form(request), portal_language(request)
    filters = filters_from(form, language)
    query = repository.list_query(filters)
    rows, next_cursor = await forms.keyset_page(
        session, form, language, query, AuditEvent.id, cursor
    )
    return _page(request, form, [AuditEventPublic.of(row) for row in rows], next_cursor)


def _page(
    request: Request, form: Form, events: list[AuditEventPublic], next_cursor: str | None
) -> Response:
    context = {
        "events": events,
        "next_cursor": next_cursor,
        "outcomes": labels.choices("outcome"),
        "form": form,
    }
    return render(request, "authority/audit.html", context, status=422 if form.errors else 200)


@router.get("/export")
async def export_csv(request: Request, principal: AuditReader, database: DatabaseDep) -> Response:
    """The matching events as CSV, oldest first (audited, like the API's export)."""
    form, language = _form(request), portal_language(request)
    filters = filters_from(form, language)
    if form.errors:
        return _page(request, form, [], None)
    await export.record_export(database, principal, filters)
    rows = export.event_rows(database, filters)
    options = ExportOptions(ExportFormat.csv, language)
    return export_response(export.COLUMNS, rows, options=options, filename=export.FILENAME)
