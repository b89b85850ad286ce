"""``/v1/admin/reports/...`` (``?format=json|csv|xlsx``) and the public open-data awards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from voucher_service.auth.dependencies import requires_roles
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import DatabaseDep, SessionDep
from voucher_service.exports import (
    EXPORT_CONTENT,
    Column,
    ExportFormat,
    ExportOptions,
    export_response,
    money,
)
from voucher_service.kit.i18n import Language, parse_accept_language
from voucher_service.kit.problems import problem_responses
from voucher_service.programs import service as programs
from voucher_service.programs.models import Program
from voucher_service.reports import queries, redemption_list
from voucher_service.reports.schemas import ProgramReport, summarise
from voucher_service.users.models import Role
from voucher_service.vouchers.models import Voucher

router = APIRouter(prefix="/v1/admin/reports", tags=["reports"])
public = APIRouter(prefix="/v1/open-data", tags=["open data"])
Reader = Annotated[
    Principal, requires_roles(Role.program_admin, Role.finance, Role.auditor, Role.sysadmin)
]
RESPONSES = {**problem_responses(401, 403, 404, 422), **EXPORT_CONTENT}


@dataclass(frozen=True)
class ReportOptions:
    """``?format=json|csv|xlsx&lang=zh|en&since_on=&until_on=``."""

    format: str
    language: Language
    period: queries.Period

    def export(self) -> ExportOptions:
        return ExportOptions(ExportFormat(self.format), self.language)


Since = Annotated[date | None, Query(description="inclusive, Beijing date")]
Until = Annotated[date | None, Query(description="inclusive, Beijing date")]


def _report_options(
    request: Request,
    format: str,
    lang: Language | None,
    since_on: date | None,
    until_on: date | None,
) -> ReportOptions:
    language = lang or parse_accept_language(request.headers.get("accept-language"), "zh")
    return ReportOptions(format, language, queries.Period.of(since_on, until_on))


async def report_options(
    request: Request,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: Language | None = None,
    since_on: Since = None,
    until_on: Until = None,
) -> ReportOptions:
    return _report_options(request, format, lang, since_on, until_on)


async def list_options(
    request: Request,
    format: Literal["csv", "xlsx"] = "csv",
    lang: Language | None = None,
    since_on: Since = None,
    until_on: Until = None,
) -> ReportOptions:
    """The same for a list that is only ever a file: ``?format=csv|xlsx``."""
    return _report_options(request, format, lang, since_on, until_on)


Options = Annotated[ReportOptions, Depends(report_options)]


async def _program(session: SessionDep, program_id: uuid.UUID) -> Program:
    return await programs.get_program(session, program_id)


ProgramDep = Annotated[Program, Depends(_program)]


async def _each(rows: Sequence[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row


def _answer(
    options: ReportOptions, columns: list[Column], rows: list[dict[str, Any]], name: str
) -> Response:
    if options.format == "json":
        return JSONResponse({"items": jsonable(rows)})
    return export_response(columns, _each(rows), options=options.export(), filename=name)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # PostgreSQL sums of BIGINT are NUMERIC
        return int(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


@router.get(
    "/programs/{program_id}/summary",
    summary="Applications, approvals, vouchers and the programme's money (from the ledger)",
    responses=problem_responses(401, 403, 404, 422),
)
async def summary(
    _principal: Reader, session: SessionDep, program: ProgramDep, options: Options
) -> ProgramReport:
    return await summarise(session, program, options.period)


REDEMPTION_COLUMNS = [
    Column("month", "月份", "Month"),
    Column("provider_id", "服务商编号", "Provider id"),
    Column("provider_name", "服务商", "Provider"),
    Column("redemption_count", "核销笔数", "Redemptions"),
    money("captured_amount", "核销金额（元）", "Captured (CNY)"),
    money("refunded_amount", "退款金额（元）", "Refunded (CNY)"),
]


@router.get(
    "/programs/{program_id}/redemption-list",
    summary="Every redemption of the programme, one row each (CSV or XLSX, streamed)",
    response_class=StreamingResponse,
    responses=RESPONSES,
)
async def redemption_list_export(
    _principal: Reader,
    database: DatabaseDep,
    program: ProgramDep,
    options: Annotated[ReportOptions, Depends(list_options)],
) -> StreamingResponse:
    """Order, provider, voucher, amounts (yuan) and times (Beijing) of each redemption created
    in ``since_on``–``until_on``; constant memory however many rows."""
    rows = redemption_list.rows(database, program.id, options.period)
    name = f"redemption-list-{program.id}"
    return export_response(redemption_list.COLUMNS, rows, options=options.export(), filename=name)


@router.get(
    "/programs/{program_id}/redemptions",
    summary="Redemptions by provider and by month",
    response_model=None,
    responses=RESPONSES,
)
async def redemptions(
    _principal: Reader, session: SessionDep, program: ProgramDep, options: Options
) -> Response:
    dialect = session.get_bind().dialect.name
    query = queries.redemptions_by_provider_query(program.id, options.period, dialect)
    rows = [dict(row._mapping) for row in await session.execute(query)]
    return _answer(options, REDEMPTION_COLUMNS, rows, f"redemptions-{program.id}")


ENTERPRISE_COLUMNS = [
    Column("enterprise_id", "企业编号", "Enterprise id"),
    Column("enterprise_name", "企业", "Enterprise"),
    Column("voucher_count", "券数", "Vouchers"),
    money("awarded_amount", "发放金额（元）", "Awarded (CNY)"),
]


@router.get(
    "/programs/{program_id}/top-enterprises",
    summary="Enterprises by amount awarded",
    response_model=None,
    responses=RESPONSES,
)
async def top_enterprises(
    _principal: Reader,
    session: SessionDep,
    program: ProgramDep,
    options: Options,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Response:
    query = queries.top_enterprises_query(program.id, options.period, limit)
    rows = [dict(row._mapping) for row in await session.execute(query)]
    return _answer(options, ENTERPRISE_COLUMNS, rows, f"top-enterprises-{program.id}")


BURN_DOWN_COLUMNS = [
    Column("month", "月份", "Month"),
    money("awarded_amount", "当月发放（元）", "Awarded (CNY)"),
    money("spent_amount", "当月支出（元）", "Spent (CNY)"),
    money("unawarded_amount", "未发放预算（元）", "Budget not awarded (CNY)"),
    money("unspent_amount", "未支出预算（元）", "Budget not spent (CNY)"),
]


@router.get(
    "/programs/{program_id}/burn-down",
    summary="Budget burn-down by month: awarded and spent, and what is left of the budget",
    response_model=None,
    responses=RESPONSES,
)
async def burn_down(
    _principal: Reader, session: SessionDep, program: ProgramDep, options: Options
) -> Response:
    issued_query, spent_query = queries.burn_down_queries(
        program.id, session.get_bind().dialect.name
    )
    issued = {row[0]: int(row[1] or 0) for row in await session.execute(issued_query)}
    spent = {row[0]: int(row[1] or 0) for row in await session.execute(spent_query)}
    budget = (await programs.figures(session, program)).budget
    rows, awarded_total, spent_total = [], 0, 0
    for month in sorted(set(issued) | set(spent)):
        awarded_total += issued.get(month, 0)
        spent_total += spent.get(month, 0)
        rows.append(
            {
                "month": month,
                "awarded_amount": issued.get(month, 0),
                "spent_amount": spent.get(month, 0),
                "unawarded_amount": budget - awarded_total,
                "unspent_amount": budget - spent_total,
            }
        )
    return _answer(options, BURN_DOWN_COLUMNS, rows, f"burn-down-{program.id}")


AWARD_COLUMNS = [
    Column("program_name", "项目", "Programme"),
    Column("fiscal_year", "年度", "Fiscal year"),
    Column("enterprise_name", "企业名称", "Enterprise"),
    Column("credit_code", "统一社会信用代码", "Unified social credit code"),
    money("awarded_amount", "支持金额（元）", "Awarded (CNY)"),
    Column("awarded_at", "发放时间", "Awarded at"),
]


@public.get(
    "/awards",
    summary="Awards per enterprise and programme, as published (no personal data)",
    response_model=None,
    responses={**problem_responses(422), **EXPORT_CONTENT},
)
async def awards(
    database: DatabaseDep,
    options: Options,
    program_id: uuid.UUID | None = None,
) -> Response:
    query = queries.open_data_query(program_id)
    rows = queries.stream(database, query, Voucher.id)
    if options.format == "json":
        collected = [row async for row in rows]
        for row in collected:
            row.pop("voucher_id")
        return JSONResponse({"items": jsonable(collected)})
    export = options.export()
    return export_response(AWARD_COLUMNS, rows, options=export, filename="awards")
