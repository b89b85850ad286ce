"""Creating the first authority users from the command line (``voucher-service create-admin``)."""

from __future__ import annotations

from sqlmodel import col, select

from voucher_service.audit import chain
from voucher_service.audit.service import AuditActor
from voucher_service.db import Database, create_engine
from voucher_service.organisations import service as organisations
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users import service as users
from voucher_service.users.models import Role, User

CLI_ACTOR = AuditActor.system("cli:create-admin")


async def create_authority_user(
    settings: Settings,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    organisation_name: str,
) -> User:
    """An authority user, in the authority organisation (made on first use)."""
    database = Database(create_engine(settings))
    try:
        async with database.unit_of_work() as session:
            authority = await session.scalar(
                select(Organisation)
                .where(col(Organisation.kind) == OrganisationKind.authority)
                .order_by(col(Organisation.id))
                .limit(1)
            )
            if authority is None:
                authority = await organisations.create_organisation(
                    session,
                    kind=OrganisationKind.authority,
                    name=organisation_name,
                    actor=CLI_ACTOR,
                )
            return await users.create_user(
                session,
                settings,
                organisation=authority,
                email=email,
                name=name,
                role=Role(role),
                password=password,
                actor=CLI_ACTOR,
            )
    finally:
        await database.dispose()


async def verify_audit_chain(settings: Settings) -> chain.ChainReport:
    """Verify the audit trail (``voucher-service audit verify``)."""
    database = Database(create_engine(settings))
    try:
        async with database.unit_of_work(readonly=True) as session:
            return await chain.verify_chain(session)
    finally:
        await database.dispose()
