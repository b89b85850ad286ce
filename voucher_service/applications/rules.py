"""The programme's rules on an application, checked at submission and again at final approval.

Each refusal is a problem naming the rule. The eligible amount is computed by
``programs.eligibility.compute`` with exactly the programme's published rule, and the
enterprise's awards this fiscal year read from the ledger (never a cached counter).
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from providers.registry import errors as registry_errors
from providers.registry import service as registry
from voucher_service.applications.errors import (
    AnnualCapExceeded,
    ApplicationWindowClosed,
    AttachmentRequired,
    ContractOutsideWindow,
    NothingEligible,
    ProviderSuspended,
    RelatedPartyDeclared,
)
from voucher_service.applications.models import Application
from voucher_service.organisations.models import Organisation
from voucher_service.programs import eligibility
from voucher_service.programs import service as programs
from voucher_service.programs.errors import ProviderNotEligible
from voucher_service.programs.models import Program, ProgramStatus
from voucher_service.vouchers import service as vouchers
from voucher_service.vouchers.errors import BudgetExhausted

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: What every application must carry before it is submitted.
REQUIRED_ATTACHMENTS = ("contract", "business_licence")


def today() -> date:
    """The programme's calendar day (Asia/Shanghai)."""
    return datetime.now(SHANGHAI).date()


def _fraction(value: Fraction) -> dict[str, Any]:
    """An exact fraction of fen, and its value truncated to fen for reading."""
    return {"numerator": value.numerator, "denominator": value.denominator, "fen": int(value)}


def working(result: eligibility.Eligibility, awarded_this_year: int) -> dict[str, Any]:
    """The computation, step by step, as JSON (amounts in fen, fractions exact)."""
    return {
        "tier": result.tier.value if result.tier else None,
        "rate_bp": result.rate_bp,
        "contract_amount": result.contract_amount,
        "contract_days": result.contract_days,
        "overlap_days": result.overlap_days,
        "eligible_base": _fraction(result.eligible_base),
        "subsidy_before_caps": _fraction(result.subsidy_before_caps),
        "awarded_this_year": awarded_this_year,
        "caps": [
            {"name": cap.name, "limit_amount": cap.limit_amount, "binding": cap.binding}
            for cap in result.caps
        ],
        "rounding": result.rounding,
        "eligible_amount": result.eligible_amount,
    }


async def compute(
    session: AsyncSession, program: Program, application: Application, enterprise: Organisation
) -> tuple[eligibility.Eligibility, int]:
    """The eligible amount now, and the enterprise's awards this year it was capped with."""
    awarded = await vouchers.awarded_this_year(
        session, enterprise.id, program.kind, program.fiscal_year
    )
    applicant = eligibility.Applicant(
        founded_on=enterprise.founded_on, size=enterprise.size, industry=enterprise.industry
    )
    contract = eligibility.Contract(
        amount=application.contract_amount,
        start_on=application.contract_starts_on,
        end_on=application.contract_ends_on,
        domestic_chips=application.contract_domestic_chips,
    )
    try:
        result = eligibility.compute(
            programs.eligibility_rule(program),
            applicant,
            contract,
            on=today(),
            awarded_this_year=awarded,
        )
    except eligibility.IneligibleContract as exc:
        raise ContractOutsideWindow(
            f"The contract is not eligible: {exc}.",
            detail_zh="合同期限与项目支持期没有重叠。",
        ) from exc
    return result, awarded


def check_window(program: Program) -> None:
    """The programme is open and today is inside its application window."""
    day = today()
    if program.status != ProgramStatus.open or not program.opens_on <= day <= program.closes_on:
        raise ApplicationWindowClosed(
            f"The programme accepts applications from {program.opens_on} to {program.closes_on} "
            "while it is open.",
            detail_zh=f"本项目受理期为 {program.opens_on} 至 {program.closes_on}（项目开放期间）。",
        )


async def check_provider(session: AsyncSession, program: Program, application: Application) -> None:
    """The provider is on the programme's list, approved and not suspended."""
    if not await programs.is_eligible_provider(session, program.id, application.provider_id):
        raise ProviderNotEligible(
            "The provider is not on this programme's list of providers.",
            detail_zh="该服务商不在本项目的服务商名单内。",
        )
    try:
        await registry.require_redeemable(session, application.provider_id)
    except registry_errors.ProviderSuspended as exc:
        raise ProviderSuspended(str(exc), detail_zh="该服务商已被暂停。") from exc
    except registry_errors.RegistryError as exc:
        raise ProviderNotEligible(
            "The provider is not approved.", detail_zh="该服务商尚未获准入。"
        ) from exc


def check_related_party(application: Application) -> None:
    if application.related_party_declared:
        raise RelatedPartyDeclared(
            "A contract with a related party is not eligible.",
            detail_zh="与关联方签订的合同不予支持。",
        )


def check_amount(program: Program, result: eligibility.Eligibility, awarded: int) -> None:
    """Something is left of the annual cap, and the contract gives a positive amount."""
    cap = program.enterprise_annual_cap_amount
    if cap is not None and awarded >= cap:
        raise AnnualCapExceeded(
            f"The enterprise has been awarded {awarded} fen of its {cap} fen cap this year "
            "in programmes of this kind.",
            detail_zh=f"本年度同类项目已获补贴 {awarded} 分，已达上限 {cap} 分。",
            awarded_this_year=awarded,
            cap_amount=cap,
        )
    if result.eligible_amount <= 0:
        raise NothingEligible(
            "Under the programme's rules this contract gives no subsidy.",
            detail_zh="按本项目规则，该合同无可补贴金额。",
        )


async def check_budget(session: AsyncSession, program: Program) -> None:
    """Some budget is left (how much each award gets is decided at approval)."""
    if await programs.remaining_budget(session, program) <= 0:
        raise BudgetExhausted("The programme's budget is used up.", detail_zh="本项目预算已用完。")


def check_attachments(kinds: set[str]) -> None:
    missing = [kind for kind in REQUIRED_ATTACHMENTS if kind not in kinds]
    if missing:
        raise AttachmentRequired(
            "Attach: " + ", ".join(missing) + ".",
            detail_zh="请上传：" + "、".join(missing) + "。",
            missing=missing,
        )


async def at_submission(
    session: AsyncSession,
    program: Program,
    application: Application,
    enterprise: Organisation,
    attachment_kinds: set[str],
) -> tuple[eligibility.Eligibility, int]:
    """Every rule for submitting; returns the eligible amount and the awards it was capped by."""
    check_window(program)
    result, awarded = await common(session, program, application, enterprise)
    await check_budget(session, program)
    check_attachments(attachment_kinds)
    return result, awarded


async def common(
    session: AsyncSession, program: Program, application: Application, enterprise: Organisation
) -> tuple[eligibility.Eligibility, int]:
    """The rules checked at submission and again at final approval."""
    check_related_party(application)
    await check_provider(session, program, application)
    result, awarded = await compute(session, program, application, enterprise)
    check_amount(program, result, awarded)
    return result, awarded
