"""Organisation rules: creation with a valid credit code, suspension and reactivation."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ledger.sqltypes import utcnow
from voucher_service.audit import service as audit
from voucher_service.audit.service import Auditable, AuditActor
from voucher_service.organisations import credit_code
from voucher_service.organisations.errors import (
    CreditCodeTaken,
    InvalidCreditCode,
    OrganisationStateConflict,
)
from voucher_service.organisations.models import (
    EnterpriseSize,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)

Actor = AuditActor | Auditable | None


def validate_credit_code(raw: str, *, allow_legacy: bool = False) -> credit_code.CreditCode:
    """The parsed code, or a 422 naming what is wrong; ``allow_legacy`` accepts a bad checksum."""
    parsed = credit_code.inspect(raw)
    if isinstance(parsed, credit_code.CreditCodeProblem):
        raise InvalidCreditCode(parsed.message, detail_zh=parsed.message_zh, reason=parsed.reason)
    if not parsed.checksum_ok and not allow_legacy:
        problem = credit_code.checksum_problem(parsed.code)
        raise InvalidCreditCode(problem.message, detail_zh=problem.message_zh, reason="checksum")
    return parsed


def is_startup(organisation: Organisation, *, on: date, max_age_years: int) -> bool:
    """Whether the enterprise was founded within ``max_age_years`` before ``on``."""
    founded = organisation.founded_on
    if founded is None or organisation.kind != OrganisationKind.enterprise:
        return False
    try:
        threshold = on.replace(year=on.year - max_age_years)
    except ValueError:  # 29 February
        threshold = on.replace(year=on.year - max_age_years, day=28)
    return founded > threshold


async def create_organisation(
    session: AsyncSession,
    *,
    kind: OrganisationKind,
    name: str,
    actor: Actor,
    credit_code: str | None = None,
    allow_legacy_code: bool = False,
    founded_on: date | None = None,
    size: EnterpriseSize | None = None,
    industry: str | None = None,
    contact_email: str | None = None,
) -> Organisation:
    """A new active organisation; enterprises and providers need a valid credit code."""
    parsed = None
    if credit_code is not None or kind != OrganisationKind.authority:
        parsed = validate_credit_code(credit_code or "", allow_legacy=allow_legacy_code)
        await _ensure_code_free(session, parsed.code)
    organisation = Organisation(
        kind=kind,
        name=name.strip(),
        credit_code=parsed.code if parsed else None,
        region_code=parsed.region_code if parsed else None,
        credit_code_legacy=bool(parsed and not parsed.checksum_ok),
        founded_on=founded_on,
        size=size,
        industry=industry,
        contact_email=contact_email,
    )
    await _insert(session, organisation)
    await audit.record(
        session,
        action="organisation.created",
        actor=actor,
        target=("organisation", organisation.id),
        after=summary(organisation),
    )
    return organisation


async def _ensure_code_free(session: AsyncSession, code: str) -> None:
    taken = await session.scalar(
        select(Organisation.id).where(col(Organisation.credit_code) == code)
    )
    if taken is not None:
        raise CreditCodeTaken(
            f"An organisation with the credit code {code} is already registered.",
            detail_zh=f"统一社会信用代码 {code} 已被注册。",
        )


async def _insert(session: AsyncSession, organisation: Organisation) -> None:
    # A concurrent registration of the same code loses on the unique constraint; the savepoint
    # keeps the unit of work usable so the caller gets a clear problem, not a 500.
    try:
        async with session.begin_nested():
            session.add(organisation)
    except IntegrityError as exc:
        raise CreditCodeTaken(
            "An organisation with this credit code is already registered.",
            detail_zh="该统一社会信用代码已被注册。",
        ) from exc


def summary(organisation: Organisation) -> dict[str, object]:
    """What the audit trail keeps about an organisation."""
    return {
        "kind": organisation.kind,
        "name": organisation.name,
        "credit_code": organisation.credit_code,
        "credit_code_legacy": organisation.credit_code_legacy,
        "status": organisation.status,
    }


async def suspend_organisation(
    session: AsyncSession, organisation: Organisation, *, reason: str, actor: Actor
) -> Organisation:
    """Suspend at once: its users and API clients lose access on their next request."""
    if organisation.kind == OrganisationKind.authority:
        raise OrganisationStateConflict(
            "The authority itself cannot be suspended.", detail_zh="主管部门本身不能被暂停。"
        )
    return await _set_status(
        session, organisation, OrganisationStatus.suspended, reason=reason, actor=actor
    )


async def reactivate_organisation(
    session: AsyncSession, organisation: Organisation, *, actor: Actor, reason: str | None = None
) -> Organisation:
    """Lift a suspension."""
    return await _set_status(
        session, organisation, OrganisationStatus.active, reason=reason, actor=actor
    )


async def _set_status(
    session: AsyncSession,
    organisation: Organisation,
    status: OrganisationStatus,
    *,
    reason: str | None,
    actor: Actor,
) -> Organisation:
    if organisation.status == status:
        raise OrganisationStateConflict(
            f"The organisation is already {status}.",
            detail_zh="机构已处于暂停状态。" if status == "suspended" else "机构已处于正常状态。",
        )
    before = {"status": organisation.status}
    now = utcnow()
    organisation.status, organisation.status_reason = status, reason
    organisation.status_changed_at = organisation.updated_at = now
    await session.flush()
    suspended = status == OrganisationStatus.suspended
    await audit.record(
        session,
        action="organisation.suspended" if suspended else "organisation.reactivated",
        actor=actor,
        target=("organisation", organisation.id),
        before=before,
        after={"status": status},
        reason=reason,
    )
    return organisation


async def get_organisation(
    session: AsyncSession, organisation_id: uuid.UUID
) -> Organisation | None:
    """The organisation with ``organisation_id``, if any."""
    return await session.get(Organisation, organisation_id)
