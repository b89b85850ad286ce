"""Portal sign-in state: the session cookie, and the visitor as the portal's pages see them.

Who may open a page is decided by the same dependencies as the API (``SysAdmin``,
``MemberOfMyEnterprise``, ...): under /portal they load the principal from the session cookie
(``voucher_service.auth.dependencies.browser_principal``) instead of a bearer token. This module
only sets and clears the cookie, and loads the visitor on public pages, where nobody need be
signed in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from voucher_service.auth.dependencies import BROWSER_COOKIE, browser_principal
from voucher_service.auth.errors import AccountSuspended, SessionRequired
from voucher_service.auth.principal import Principal
from voucher_service.auth.sessions import BrowserGrant


def set_session_cookie(response: Response, grant: BrowserGrant) -> None:
    """Hand the browser its session: HttpOnly (no script reads it), Secure, SameSite=Lax.

    No Max-Age: the cookie goes when the browser closes, and the server ends the session after
    its idle or absolute limit anyway.
    """
    response.set_cookie(
        BROWSER_COOKIE, grant.token, httponly=True, secure=True, samesite="lax", path="/"
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(BROWSER_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


async def optional_viewer(request: Request) -> Principal | None:
    """The signed-in person on a public page, or None (never a refusal)."""
    if not request.cookies.get(BROWSER_COOKIE):
        return None
    try:
        return await browser_principal(request)
    except (SessionRequired, AccountSuspended):
        return None


Viewer = Annotated[Principal | None, Depends(optional_viewer)]
