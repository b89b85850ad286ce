"""HTTP routes of the organisations domain: one's own organisation, and the authority's view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, status

from voucher_service.audit import service as audit
from voucher_service.auth.dependencies import (
    AuthorityUser,
    ProgramAdmin,
    requires_roles,
)
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.organisations import repository
from voucher_service.organisations import service as organisations
from voucher_service.organisations.dependencies import (
    OrganisationForAuthority,
    OrganisationRegistrar,
    OwnOrganisation,
)
from voucher_service.organisations.models import Organisation, OrganisationKind, OrganisationStatus
from voucher_service.organisations.schemas import (
    OrganisationAdmin,
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    StatusChange,
)
from voucher_service.settings import Settings
from voucher_service.users.models import Role

Shape = TypeVar("Shape", bound=OrganisationPublic)

router = APIRouter(tags=["organisations"], route_class=IdempotentRoute)
AUTH = problem_responses(401, 403)


def present(organisation: Organisation, settings: Settings, model: type[Shape]) -> Shape:
    """The response shape for ``model``'s audience, with the computed startup flag."""
    startup = organisations.is_startup(
        organisation, on=date.today(), max_age_years=settings.startup_max_age_years
    )
    return model.model_validate(organisation).model_copy(update={"is_startup": startup})


@router.get("/v1/organisations/me", summary="My organisation", responses=AUTH)
async def get_own(organisation: OwnOrganisation, settings: SettingsDep) -> OrganisationPublic:
    return present(organisation, settings, OrganisationPublic)


@router.patch(
    "/v1/organisations/me",
    summary="Update my organisation's contact details",
    responses=problem_responses(401, 403, 422),
)
async def update_own(
    body: OrganisationUpdate,
    principal: Annotated[Principal, requires_roles(Role.owner, Role.operator)],
    organisation: OwnOrganisation,
    session: SessionDep,
    settings: SettingsDep,
) -> OrganisationPublic:
    changes = body.model_dump(exclude_unset=True)
    before = {name: getattr(organisation, name) for name in changes}
    for name, value in changes.items():
        setattr(organisation, name, value)
    await session.flush()
    await audit.record(
        session,
        action="organisation.updated",
        actor=principal,
        target=("organisation", organisation.id),
        before=before,
        after=changes,
    )
    return present(organisation, settings, OrganisationPublic)


@router.get("/v1/admin/organisations", summary="List organisations", responses=AUTH)
async def list_organisations(
    _principal: AuthorityUser,
    session: SessionDep,
    settings: SettingsDep,
    page: PageParamsDep,
    kind: Annotated[OrganisationKind | None, Query()] = None,
    status_filter: Annotated[OrganisationStatus | None, Query(alias="status")] = None,
    credit_code: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[OrganisationAdmin]:
    query = repository.list_query(kind=kind, status=status_filter, credit_code=credit_code)
    rows, cursor = await paginate(session, query, Organisation.id, page)  # type: ignore[arg-type]
    items = [present(row, settings, OrganisationAdmin) for row in rows]
    return Page[OrganisationAdmin](items=items, next_cursor=cursor)


@router.post(
    "/v1/admin/organisations",
    summary="Register an organisation (any kind)",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_organisation(
    body: OrganisationCreate,
    principal: OrganisationRegistrar,
    session: SessionDep,
    settings: SettingsDep,
) -> OrganisationAdmin:
    organisation = await organisations.create_organisation(
        session,
        kind=body.kind,
        name=body.name,
        actor=principal,
        credit_code=body.credit_code,
        allow_legacy_code=body.allow_legacy_credit_code,
        founded_on=body.founded_on,
        size=body.size,
        industry=body.industry,
        contact_email=body.contact_email,
    )
    return present(organisation, settings, OrganisationAdmin)


@router.get(
    "/v1/admin/organisations/{organisation_id}",
    summary="One organisation",
    responses=problem_responses(401, 403, 404),
)
async def get_organisation(
    organisation: OrganisationForAuthority, settings: SettingsDep
) -> OrganisationAdmin:
    return present(organisation, settings, OrganisationAdmin)


@router.post(
    "/v1/admin/organisations/{organisation_id}/suspend",
    summary="Suspend an enterprise or provider: its users and API clients lose access at once",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def suspend(
    body: StatusChange,
    principal: ProgramAdmin,
    organisation: OrganisationForAuthority,
    session: SessionDep,
    settings: SettingsDep,
) -> OrganisationAdmin:
    await organisations.suspend_organisation(
        session, organisation, reason=body.reason, actor=principal
    )
    return present(organisation, settings, OrganisationAdmin)


@router.post(
    "/v1/admin/organisations/{organisation_id}/reactivate",
    summary="Lift a suspension",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reactivate(
    body: StatusChange,
    principal: ProgramAdmin,
    organisation: OrganisationForAuthority,
    session: SessionDep,
    settings: SettingsDep,
) -> OrganisationAdmin:
    await organisations.reactivate_organisation(
        session, organisation, actor=principal, reason=body.reason
    )
    return present(organisation, settings, OrganisationAdmin)
