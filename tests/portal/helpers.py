"""Signing in to the portal in tests, and posting its forms with a valid CSRF token."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from voucher_service.auth import sessions
from voucher_service.auth.dependencies import BROWSER_COOKIE
from voucher_service.portal import csrf
from voucher_service.users.models import User

CSRF_VALUE = "c" * 43


def cookie_header(token: str | None, csrf_value: str = CSRF_VALUE) -> str:
    """A Cookie header for a portal session (``token``) with a known CSRF cookie."""
    parts = [f"{csrf.COOKIE_NAME}={csrf_value}"]
    if token:
        parts.append(f"{BROWSER_COOKIE}={token}")
    return "; ".join(parts)


def csrf_token(app: FastAPI, csrf_value: str = CSRF_VALUE) -> str:
    """The form token that goes with the CSRF cookie ``csrf_value``."""
    return csrf.token_for(app.state.csrf_key, csrf_value)


async def browser_session(app: FastAPI, session: AsyncSession, user: User) -> str:
    """A portal session for ``user`` (no HTTP sign-in); returns the cookie's token."""
    grant = await sessions.start_browser_session(session, user.id, app.state.settings)
    await session.commit()
    return grant.token


class Browser:
    """A test client that behaves like a signed-in browser: session and CSRF cookies, forms."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, token: str | None) -> None:
        self.app, self.client, self.token = app, client, token

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": cookie_header(self.token)}

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(url, headers=self.headers, **kwargs)

    async def post(self, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
        form = {csrf.FIELD_NAME: csrf_token(self.app), **(data or {})}
        return await self.client.post(url, data=form, headers=self.headers)


async def sign_in(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, user: User
) -> Browser:
    """A browser signed in as ``user``."""
    return Browser(app, client, await browser_session(app, session, user))


async def post_file(
    browser: Browser, url: str, data: dict[str, Any], files: dict[str, Any]
) -> httpx.Response:
    """A multipart form post (an upload) from ``browser``, with its CSRF token."""
    form = {csrf.FIELD_NAME: csrf_token(browser.app), **data}
    return await browser.client.post(url, data=form, files=files, headers=browser.headers)


#: DESIGN §3's worked example as programme rules: 200,000 CNY, 2025-01-01 → 2026-12-31,
#: eligible period 2025-03-01 → 2025-12-31, 30 %, rounding to the yuan → 25,102 CNY.
WORKED_EXAMPLE_PROGRAM: dict[str, Any] = {
    "rate_tiers": [],
    "default_rate_bp": 3000,
    "rounding_unit": "yuan",
    "eligible_from_on": date(2025, 3, 1),
    "eligible_until_on": date(2025, 12, 31),
}
