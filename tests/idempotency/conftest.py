"""A small router behind ``IdempotentRoute`` that writes an audit event per real execution."""

from __future__ import annotations

import uuid
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, Path, status
from pydantic import BaseModel, ConfigDict

from voucher_service.audit import service as audit
from voucher_service.auth.dependencies import CurrentUser
from voucher_service.dependencies import SessionDep
from voucher_service.idempotency import IdempotentRoute, idempotent_route
from voucher_service.kit.problems import ProblemError

ACTION = "test.idempotent.made"


class Refused(ProblemError):
    status = 422
    code = "test_refused"
    title = "Refused"
    title_zh = "拒绝"


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: int
    note: str = ""
    outcome: str = "ok"  # ok | refuse | crash


class Made(BaseModel):
    id: uuid.UUID
    amount: int


def _router(route_class: type[IdempotentRoute], prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, route_class=route_class)

    @router.post("/{name}", status_code=status.HTTP_201_CREATED)
    async def make(
        name: Annotated[str, Path(max_length=20)],
        body: Order,
        principal: CurrentUser,
        session: SessionDep,
    ) -> Made:
        made = Made(id=uuid.uuid4(), amount=body.amount)
        await audit.record(
            session, action=ACTION, actor=principal, target=("test", made.id), after={"name": name}
        )
        await session.flush()
        if body.outcome == "refuse":
            raise Refused("no", detail_zh="不")
        if body.outcome == "crash":
            raise RuntimeError("boom")
        return made

    @router.get("/{name}")
    async def read(name: str, principal: CurrentUser) -> dict[str, str]:
        return {"name": name, "by": str(principal.id)}

    return router


@pytest.fixture
def idempotent_app(app: FastAPI) -> FastAPI:
    app.include_router(_router(IdempotentRoute, "/test/optional"))
    app.include_router(_router(idempotent_route(key_required=True), "/test/required"))
    return app
