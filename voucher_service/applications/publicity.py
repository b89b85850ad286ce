"""The public publicity page (公示) and objections: no login, no personal data."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from voucher_service.applications.models import Application, Objection
from voucher_service.applications.schemas import ObjectionCreate, PublicityEntry
from voucher_service.applications.workflow import State
from voucher_service.audit import service as audit
from voucher_service.audit.service import AuditActor
from voucher_service.auth.errors import NotFound
from voucher_service.organisations.models import Organisation
from voucher_service.programs.models import Program

Enterprise = aliased(Organisation)
Provider = aliased(Organisation)


async def listed(
    session: AsyncSession, now: datetime, *, after: uuid.UUID | None, limit: int
) -> Sequence[PublicityEntry]:
    """Awards in publicity now, oldest first."""
    query = (
        select(Application, Program.name, Enterprise.name, Provider.name)
        .join(Program, col(Program.id) == col(Application.program_id))
        .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
        .join(Provider, col(Provider.id) == col(Application.provider_id))
        .where(col(Application.state) == State.publicity, col(Application.publicity_until) > now)
        .order_by(col(Application.id))
        .limit(limit)
    )
    if after is not None:
        query = query.where(col(Application.id) > after)
    rows = (await session.execute(query)).all()
    return [
        PublicityEntry(
            id=application.id,
            program_id=application.program_id,
            program_name=program_name,
            enterprise_name=enterprise_name,
            provider_name=provider_name,
            project_name=application.project_name,
            award_amount=application.eligible_amount,
            publicity_until=application.publicity_until,
        )
        for application, program_name, enterprise_name, provider_name in rows
    ]


async def object_to(
    session: AsyncSession,
    application_id: uuid.UUID,
    body: ObjectionCreate,
    *,
    now: datetime,
    address: str | None,
) -> Objection:
    """Store an objection to an award that is in publicity now (else "not found")."""
    application = await session.get(Application, application_id)
    if (
        application is None
        or application.state != State.publicity
        or application.publicity_until is None
        or application.publicity_until <= now
    ):
        raise NotFound()
    digest = hashlib.sha256(address.encode()).hexdigest() if address else None
    objection = Objection(
        application_id=application.id, text=body.text, contact=body.contact, address_digest=digest
    )
    session.add(objection)
    await session.flush()
    await audit.record(
        session,
        action="application.objection_received",
        actor=AuditActor.anonymous(),
        target=("application", application.id),
        after={"objection_id": str(objection.id)},
    )
    return objection
