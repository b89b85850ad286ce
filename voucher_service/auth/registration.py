"""Self-registration: an enterprise and its first owner, in one unit of work (API and portal)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.audit.service import AuditActor
from voucher_service.auth.schemas import Registration
from voucher_service.organisations import service as organisations
from voucher_service.organisations.models import Organisation, OrganisationKind
from voucher_service.settings import Settings
from voucher_service.users import service as users
from voucher_service.users.models import Role, User


async def register_enterprise(
    session: AsyncSession, settings: Settings, registration: Registration
) -> tuple[Organisation, User]:
    """Create the enterprise (valid, unused credit code) and its owner (password rules)."""
    details, owner = registration.organisation, registration.owner
    actor = AuditActor.anonymous(owner.email)
    organisation = await organisations.create_organisation(
        session,
        kind=OrganisationKind.enterprise,
        name=details.name,
        actor=actor,
        credit_code=details.credit_code,
        founded_on=details.founded_on,
        size=details.size,
        industry=details.industry,
        contact_email=details.contact_email,
    )
    user = await users.create_user(
        session,
        settings,
        organisation=organisation,
        email=owner.email,
        name=owner.name,
        role=Role.owner,
        password=owner.password,
        actor=actor,
    )
    return organisation, user
