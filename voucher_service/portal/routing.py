"""The portal's routers: every one checks the CSRF token of every POST (see ``csrf``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from voucher_service.portal.csrf import verify_csrf

PREFIX = "/portal"


def portal_router(area: str = "") -> APIRouter:
    """A router for the pages under ``/portal{area}``, CSRF-checked, left out of the OpenAPI."""
    return APIRouter(
        prefix=PREFIX + area, include_in_schema=False, dependencies=[Depends(verify_csrf)]
    )


def safe_next(target: str | None, default: str = PREFIX + "/") -> str:
    """Only ever redirect within the portal (no open redirect); ``default`` otherwise."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return default
