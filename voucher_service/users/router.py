"""HTTP routes of the users domain: oneself, an owner's members, the sysadmin's user admin."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from voucher_service.auth.dependencies import (
    CurrentUser,
    EnterpriseOwner,
    SysAdmin,
)
from voucher_service.auth.errors import NotFound
from voucher_service.dependencies import SessionDep, SettingsDep
from voucher_service.idempotency import IdempotentRoute
from voucher_service.kit.pagination import Page, PageParamsDep, paginate
from voucher_service.kit.problems import problem_responses
from voucher_service.organisations.models import Organisation
from voucher_service.users import repository
from voucher_service.users import service as users
from voucher_service.users.dependencies import MemberOfMyEnterprise, UserForAdmin, UserReader
from voucher_service.users.models import Role, User, UserStatus
from voucher_service.users.schemas import (
    Member,
    MemberInvite,
    MemberInvited,
    Reason,
    UserAdmin,
    UserCreate,
    UserCreated,
    UserSelf,
)

router = APIRouter(tags=["users"], route_class=IdempotentRoute)
# Routes whose answer holds a secret shown once stay out of the idempotency layer: its record
# would keep the secret (docs/CONVENTIONS.md, "Idempotency keys").
secret_routes = APIRouter(tags=["users"])
AUTH = problem_responses(401, 403)
ON_USER = problem_responses(401, 403, 404, 409, 422)


def _with_token(shape: BaseModel, issued: users.SetupToken) -> dict[str, object]:
    return {
        **shape.model_dump(),
        "password_setup_token": issued.token,
        "expires_at": issued.expires_at,
    }


@router.get("/v1/users/me", summary="Myself", responses=AUTH)
async def me(principal: CurrentUser, session: SessionDep) -> UserSelf:
    user = await session.get(User, principal.id)
    return UserSelf.model_validate(user)


@router.get("/v1/organisations/me/members", summary="My enterprise's members", responses=AUTH)
async def list_members(
    principal: EnterpriseOwner, session: SessionDep, page: PageParamsDep
) -> Page[Member]:
    query = repository.list_query(organisation_id=principal.organisation_id)
    rows, cursor = await paginate(session, query, User.id, page)  # type: ignore[arg-type]
    return Page[Member](items=[Member.model_validate(r) for r in rows], next_cursor=cursor)


@secret_routes.post(
    "/v1/organisations/me/members",
    summary="Invite a member; the response carries the invitation token once",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
async def invite_member(
    body: MemberInvite, principal: EnterpriseOwner, session: SessionDep, settings: SettingsDep
) -> MemberInvited:
    organisation = await session.get(Organisation, principal.organisation_id)
    assert organisation is not None  # noqa: S101 - the principal was loaded with it
    user, token = await users.invite_user(
        session,
        settings,
        organisation=organisation,
        email=body.email,
        name=body.name,
        role=Role.member,
        actor=principal,
    )
    return MemberInvited.model_validate(_with_token(Member.model_validate(user), token))


@router.post(
    "/v1/organisations/me/members/{user_id}/suspend",
    summary="Suspend a member of my enterprise",
    responses=ON_USER,
)
async def suspend_member(
    body: Reason, principal: EnterpriseOwner, member: MemberOfMyEnterprise, session: SessionDep
) -> Member:
    await users.suspend_user(session, member, actor=principal, reason=body.reason)
    return Member.model_validate(member)


@router.post(
    "/v1/organisations/me/members/{user_id}/reactivate",
    summary="Reactivate a member of my enterprise",
    responses=ON_USER,
)
async def reactivate_member(
    principal: EnterpriseOwner, member: MemberOfMyEnterprise, session: SessionDep
) -> Member:
    await users.reactivate_user(session, member, actor=principal)
    return Member.model_validate(member)


@router.get("/v1/admin/users", summary="List users", responses=AUTH)
async def list_users(
    _principal: UserReader,
    session: SessionDep,
    page: PageParamsDep,
    organisation_id: Annotated[uuid.UUID | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    status_filter: Annotated[UserStatus | None, Query(alias="status")] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> Page[UserAdmin]:
    query = repository.list_query(
        organisation_id=organisation_id, role=role, status=status_filter, email=email
    )
    rows, cursor = await paginate(session, query, User.id, page)  # type: ignore[arg-type]
    return Page[UserAdmin](items=[UserAdmin.model_validate(r) for r in rows], next_cursor=cursor)


@secret_routes.post(
    "/v1/admin/users",
    summary="Create a user in any organisation; the response carries the set-up token once",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_user(
    body: UserCreate, principal: SysAdmin, session: SessionDep, settings: SettingsDep
) -> UserCreated:
    organisation = await session.get(Organisation, body.organisation_id)
    if organisation is None:
        raise NotFound()
    user, token = await users.invite_user(
        session,
        settings,
        organisation=organisation,
        email=body.email,
        name=body.name,
        role=body.role,
        actor=principal,
    )
    return UserCreated.model_validate(_with_token(UserAdmin.model_validate(user), token))


@router.get(
    "/v1/admin/users/{user_id}", summary="One user", responses=problem_responses(401, 403, 404)
)
async def get_user(user: UserForAdmin) -> UserAdmin:
    return UserAdmin.model_validate(user)


@router.post("/v1/admin/users/{user_id}/suspend", summary="Suspend a user", responses=ON_USER)
async def suspend_user(
    body: Reason, principal: SysAdmin, user: UserForAdmin, session: SessionDep
) -> UserAdmin:
    await users.suspend_user(session, user, actor=principal, reason=body.reason)
    return UserAdmin.model_validate(user)


@router.post("/v1/admin/users/{user_id}/reactivate", summary="Reactivate a user", responses=ON_USER)
async def reactivate_user(
    principal: SysAdmin, user: UserForAdmin, session: SessionDep
) -> UserAdmin:
    await users.reactivate_user(session, user, actor=principal)
    return UserAdmin.model_validate(user)


@secret_routes.post(
    "/v1/admin/users/{user_id}/password-reset",
    summary="Reset a user's password: sessions end; the response carries a set-up token once",
    responses=ON_USER,
)
async def reset_password(
    principal: SysAdmin, user: UserForAdmin, session: SessionDep, settings: SettingsDep
) -> UserCreated:
    token = await users.reset_password(session, settings, user, actor=principal)
    return UserCreated.model_validate(_with_token(UserAdmin.model_validate(user), token))


router.include_router(secret_routes)
