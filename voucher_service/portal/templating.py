"""Rendering portal pages: one Jinja2 environment per language, autoescaped, strict."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from voucher_service.auth.principal import Principal
from voucher_service.kit.i18n import Language
from voucher_service.portal import csrf, flash, labels, navigation
from voucher_service.portal.i18n import DEFAULT_LANGUAGE, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
PORTAL_STATIC = Path(__file__).parent / "static"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LANGUAGE_COOKIE = "lang"


def yuan(amount: int | None) -> str:
    """Fen as yuan with two decimals and thousands separators: 123456 → '1,234.56'."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    whole, fen = divmod(abs(amount), 100)
    return f"{sign}{whole:,}.{fen:02d}"


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp shown in Asia/Shanghai, the time the portal's users live in."""
    return moment.astimezone(SHANGHAI).strftime(fmt) if moment else "—"


@cache
def environment(language: Language) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = yuan
    env.filters["local_time"] = local_time
    env.globals["labels"] = labels
    return env


def portal_language(request: Request) -> Language:
    """The visitor's chosen language (a cookie set by the switch), Chinese by default."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return "en" if chosen == "en" else DEFAULT_LANGUAGE


def signed_in(request: Request) -> Principal | None:
    """Who is signed in, once a page's dependencies have loaded the portal session."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) and principal.is_user else None


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render ``template`` for ``request``, with the language, CSRF token and helpers in scope."""
    language = portal_language(request)
    principal = signed_in(request)
    message = flash.take(request)
    nav = navigation.items_for(principal)
    values = {
        "request": request,
        "lang": language,
        "principal": principal,
        "nav": nav,
        "current_nav": navigation.current(nav, request.url.path),
        "flash": message,
        "csrf_field": csrf.FIELD_NAME,
        "csrf_token": csrf.form_token(request, request.app.state.csrf_key),
        **(context or {}),
    }
    html = environment(language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    csrf.set_new_cookie(request, response)
    if message is not None:
        flash.clear(response)
    return response


def redirect(request: Request, target: str, message: flash.Flash | None = None) -> RedirectResponse:
    """303 to ``target`` (POST/redirect/GET), carrying a flash message for the page there."""
    response = RedirectResponse(target, status_code=303)
    if message is not None:
        flash.send(request, response, message)
    csrf.set_new_cookie(request, response)
    return response
