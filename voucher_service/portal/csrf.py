"""CSRF protection for portal forms: the signed double-submit cookie pattern.

A random value lives in an HttpOnly ``csrf`` cookie; each form carries HMAC(server secret, value).
A cross-site page can make the browser send the cookie but can neither read it nor compute the
token, so a forged form post fails the check. The value is replaced at sign-in and sign-out, so a
value planted before a sign-in is worth nothing after it. Every POST under /portal is checked by
:func:`verify_csrf`, a dependency of the portal's routers (no route can forget it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from voucher_service.kit.problems import ProblemError

COOKIE_NAME = "csrf"
FIELD_NAME = "csrf_token"
COOKIE_PATH = "/portal"


class CsrfRefused(ProblemError):
    status = 403
    code = "csrf_failed"
    title = "This form has expired"
    title_zh = "表单已失效"

    def __init__(self) -> None:
        super().__init__(
            "The form was not sent from this site's current page, or it has expired. Go back, "
            "reload the page and send it again.",
            detail_zh="该表单并非从本站当前页面提交，或已失效。请返回上一页，刷新后重新提交。",
        )


def cookie_value(request: Request) -> str:
    """The request's CSRF cookie value, minting a new one (set on the response) if absent."""
    value = getattr(request.state, "new_csrf_cookie", None) or request.cookies.get(COOKIE_NAME)
    if not value or len(value) < 32:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = value
    return value


def renew(request: Request) -> None:
    """Use a fresh value from this response on (at sign-in and sign-out)."""
    request.state.new_csrf_cookie = secrets.token_urlsafe(32)


def token_for(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def form_token(request: Request, secret: bytes) -> str:
    """The token to embed in this request's forms."""
    return token_for(secret, cookie_value(request))


def is_valid(request: Request, secret: bytes, submitted: str | None) -> bool:
    """Whether ``submitted`` matches the request's CSRF cookie."""
    value = request.cookies.get(COOKIE_NAME)
    if not value or not submitted:
        return False
    return hmac.compare_digest(token_for(secret, value), submitted)


def set_new_cookie(request: Request, response: Response) -> None:
    """Send the cookie minted (or renewed) while handling ``request``, if any."""
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            COOKIE_NAME,
            value,
            httponly=True,
            samesite="lax",
            secure=True,  # browsers accept Secure cookies from http://localhost too
            path=COOKIE_PATH,
        )


async def verify_csrf(request: Request) -> None:
    """Refuse a POST whose form does not carry the token of the request's CSRF cookie."""
    if request.method != "POST":
        return
    form = await request.form()
    submitted = form.get(FIELD_NAME)
    if not is_valid(
        request, request.app.state.csrf_key, submitted if isinstance(submitted, str) else None
    ):
        await form.close()  # a refused upload's spooled file is not left open
        raise CsrfRefused()
