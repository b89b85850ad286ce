"""CSRF protection for portal forms: the signed double-submit cookie pattern.

A random value lives in an HttpOnly ``csrf`` cookie; each form carries HMAC(server secret, value).
A cross-site page can make the browser send the cookie but can neither read it nor compute the
token, so a forged form post fails the check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

COOKIE_NAME = "csrf"
FIELD_NAME = "csrf_token"


def cookie_value(request: Request) -> str:
    """The request's CSRF cookie value, minting a new one (set on the response) if absent."""
    value = request.cookies.get(COOKIE_NAME) or getattr(request.state, "new_csrf_cookie", None)
    if not value or len(value) < 32:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = value
    return value


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
