"""Portal pages that belong to no domain: home, language switch, error pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from voucher_service.kit.i18n import Language
from voucher_service.portal.templating import LANGUAGE_COOKIE, portal_language, render

router = APIRouter(prefix="/portal", include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only ever redirect within the portal (no open redirect)."""
    if target and target.startswith("/portal") and not target.startswith("//"):
        return target
    return "/portal/"


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@router.get("/lang/{language}")
async def switch_language(
    language: str, next: Annotated[str | None, Query()] = None
) -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        "en" if language == "en" else "zh",
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=True,  # browsers accept Secure cookies from http://localhost too
        path="/",
    )
    return response


class PortalErrorPages:
    """The HTML face of problems for requests under /portal (see kit.problems)."""

    prefix = "/portal"

    def language(self, request: Request) -> Language:
        return portal_language(request)

    def render(
        self, request: Request, status: int, title: str, detail: str | None, request_id: str | None
    ) -> HTMLResponse:
        context = {"status": status, "title": title, "detail": detail, "request_id": request_id}
        return render(request, "error.html", context, status=status)
