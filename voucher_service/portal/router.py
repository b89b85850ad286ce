"""The portal's shell: home, language switch, error pages, and every area's pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from voucher_service.auth.dependencies import BROWSER_COOKIE
from voucher_service.kit.i18n import Language
from voucher_service.portal.auth import Viewer, clear_session_cookie
from voucher_service.portal.navigation import home_for_role
from voucher_service.portal.pages import (
    account,
    applications,
    apply,
    audit,
    authority,
    authority_catalogue,
    authority_organisations,
    authority_programmes,
    authority_providers,
    authority_reconciliations,
    authority_users,
    authority_vouchers,
    enterprise,
    enterprise_claims,
    exports,
    finance,
    ledger_health,
    programmes,
    provider,
    provider_redemptions,
    provider_settlements,
    provider_statements,
    provider_webhooks,
    public,
    publicity,
    reports,
    review,
    vouchers,
)
from voucher_service.portal.routing import portal_router, safe_next
from voucher_service.portal.templating import LANGUAGE_COOKIE, portal_language, render

router = portal_router()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, viewer: Viewer) -> HTMLResponse:
    dashboard = home_for_role(viewer.role) if viewer and viewer.role else None
    return render(request, "home.html", {"dashboard": dashboard})


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


#: Every router of the portal, included by the app (each has its own /portal... prefix).
ROUTERS = [
    router,
    *(
        area.router
        for area in (
            public,
            programmes,
            publicity,
            account,
            enterprise,
            apply,
            applications,
            vouchers,
            provider,
            provider_redemptions,
            provider_webhooks,
            authority,
            review,
            reports,
            authority_users,
            authority_organisations,
            audit,
            authority_vouchers,
            authority_providers,
            authority_programmes,
            exports,
            authority_catalogue,
        )
    ),
]


class PortalErrorPages:
    """The HTML face of problems for requests under /portal (see kit.problems)."""

    prefix = "/portal"

    def language(self, request: Request) -> Language:
        return portal_language(request)

    def render(
        self, request: Request, status: int, title: str, detail: str | None, request_id: str | None
    ) -> Response:
        if status == 401:
            return self.sign_in(request)
        context = {"status": status, "title": title, "detail": detail, "request_id": request_id}
        return render(request, "error.html", context, status=status)

    def sign_in(self, request: Request) -> Response:
        """No session (or an ended one): to the sign-in page, and back here after it."""
        query = {"next": self.return_to(request)}
        if request.cookies.get(BROWSER_COOKIE):
            query["ended"] = "true"
        response = RedirectResponse(f"/portal/login?{urlencode(query)}", status_code=303)
        clear_session_cookie(response)
        return response

    @staticmethod
    def return_to(request: Request) -> str:
        """Where to go after signing in: this page, or for a form the page it was sent from."""
        if request.method == "GET":
            query = f"?{request.url.query}" if request.url.query else ""
            return safe_next(request.url.path + query)
        referer = urlsplit(request.headers.get("referer") or "")
        return safe_next(referer.path if referer.netloc == request.url.netloc else None)


#: The provider's settlements and statements, finance's settlements, reconciliations and ledger.
ROUTERS += [
    provider_settlements.router,
    provider_statements.router,
    finance.router,
    authority_reconciliations.router,
    ledger_health.router,
]

#: The startup's reimbursement claims.
ROUTERS += [enterprise_claims.router]
