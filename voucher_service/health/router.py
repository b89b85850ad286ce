"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from voucher_service import migrations
from voucher_service.dependencies import DatabaseDep
from voucher_service.kit.problems import ProblemError, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    revision: str | None


class NotReady(ProblemError):
    status = 503
    code = "not_ready"
    title = "Service not ready"
    title_zh = "服务尚未就绪"


@router.get("/healthz", summary="Process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Database reachable and migrated", responses=problem_responses(503))
async def readyz(database: DatabaseDep) -> Readiness:
    try:
        revision = await migrations.current_revision(database.engine)
    except (SQLAlchemyError, OSError) as exc:
        raise NotReady("The database cannot be reached.", reason=type(exc).__name__) from exc
    head = migrations.head_revision()
    if revision != head:
        raise NotReady(
            f"The database is at migration {revision}, the code needs {head}.",
            revision=revision,
            head=head,
        )
    return Readiness(status="ok", database=database.dialect, revision=revision)
