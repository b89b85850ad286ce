"""HTTP routes of authentication: login, refresh, logout, passwords, registration."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from voucher_service.auth import service
from voucher_service.auth.dependencies import CurrentUser
from voucher_service.auth.limits import AddressLimited, client_address, limit_account
from voucher_service.auth.registration import register_enterprise
from voucher_service.auth.schemas import (
    PasswordChange,
    PasswordTokenUse,
    RefreshRequest,
    Registered,
    Registration,
    TokenResponse,
)
from voucher_service.auth.service import AuthOutcome
from voucher_service.dependencies import DatabaseDep, KeyRingDep, SessionDep, SettingsDep
from voucher_service.kit.problems import problem_responses
from voucher_service.organisations import service as organisations
from voucher_service.organisations.schemas import OrganisationPublic
from voucher_service.users.schemas import UserSelf

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def _tokens(outcome: AuthOutcome) -> TokenResponse:
    if outcome.refusal is not None:
        raise outcome.refusal
    assert outcome.tokens is not None  # noqa: S101 - an outcome has one or the other
    return TokenResponse(**vars(outcome.tokens))


@router.post(
    "/token",
    summary="Log in with e-mail and password (OAuth2 password grant)",
    dependencies=[AddressLimited],
    responses=problem_responses(401, 403, 422, 429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
) -> TokenResponse:
    await limit_account(database, settings, form.username)
    async with database.unit_of_work() as session:
        outcome = await service.login(
            session,
            settings,
            keyring,
            email=form.username,
            password=form.password,
            client=service.Client(client_address(), request.headers.get("user-agent")),
        )
    return _tokens(outcome)


@router.post(
    "/refresh",
    summary="Exchange a refresh token for new tokens (the old one is used up)",
    dependencies=[AddressLimited],
    responses=problem_responses(401, 422, 429),
)
async def refresh(
    body: RefreshRequest, database: DatabaseDep, settings: SettingsDep, keyring: KeyRingDep
) -> TokenResponse:
    async with database.unit_of_work() as session:
        outcome = await service.refresh(
            session, settings, keyring, refresh_token=body.refresh_token
        )
    return _tokens(outcome)


@router.post(
    "/logout",
    summary="End this session (or every session of mine)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
)
async def logout(
    principal: CurrentUser,
    session: SessionDep,
    everywhere: Annotated[bool, Query(description="end all my sessions")] = False,
) -> Response:
    await service.logout(session, principal, everywhere=everywhere)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password",
    summary="Change my password; every session ends and new tokens are returned",
    responses=problem_responses(401, 403, 422, 429),
)
async def change_password(
    body: PasswordChange,
    principal: CurrentUser,
    database: DatabaseDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
) -> TokenResponse:
    await limit_account(database, settings, principal.label)
    async with database.unit_of_work() as session:
        outcome = await service.change_password(
            session,
            settings,
            keyring,
            principal,
            current_password=body.current_password,
            new_password=body.new_password,
        )
    return _tokens(outcome)


@router.post(
    "/password-token",
    summary="Accept an invitation or a password reset with its one-time token",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AddressLimited],
    responses=problem_responses(401, 422, 429),
)
async def use_password_token(
    body: PasswordTokenUse, database: DatabaseDep, settings: SettingsDep
) -> Response:
    async with database.unit_of_work() as session:
        outcome = await service.use_password_token(
            session, settings, token=body.token, new_password=body.new_password
        )
    if outcome.refusal is not None:
        raise outcome.refusal
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/register",
    summary="Register an enterprise and its first owner",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AddressLimited],
    responses=problem_responses(409, 422, 429),
)
async def register(body: Registration, session: SessionDep, settings: SettingsDep) -> Registered:
    organisation, user = await register_enterprise(session, settings, body)
    startup = organisations.is_startup(
        organisation, on=date.today(), max_age_years=settings.startup_max_age_years
    )
    public = OrganisationPublic.model_validate(organisation).model_copy(
        update={"is_startup": startup}
    )
    return Registered(organisation=public, user=UserSelf.model_validate(user))
