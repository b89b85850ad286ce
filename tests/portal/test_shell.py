"""The portal shell: languages, security headers, CSRF cookie, HTML error pages, catalogue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from babel.messages.pofile import read_po
from starlette.requests import Request

from voucher_service.portal import csrf
from voucher_service.portal.i18n import LOCALE_DIR
from voucher_service.portal.routing import safe_next
from voucher_service.portal.templating import local_time, yuan

ROOT = Path(__file__).resolve().parents[2]


async def test_home_is_chinese_by_default_and_switches_to_english(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/portal/")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "算力券·模型券服务平台" in page.text
    switched = await client.get("/portal/lang/en?next=/portal/")
    assert switched.status_code == 303
    assert switched.headers["location"] == "/portal/"
    english = await client.get("/portal/")
    assert '<html lang="en">' in english.text
    assert "Compute & Model Voucher Service" in english.text


async def test_language_switch_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    response = await client.get("/portal/lang/en?next=https://evil.example/")
    assert response.headers["location"] == "/portal/"
    assert safe_next("//evil.example/portal") == "/portal/"
    assert safe_next("/portal/applications") == "/portal/applications"


async def test_pages_carry_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    api = await client.get("/healthz")
    assert "content-security-policy" not in api.headers


async def test_first_visit_sets_an_httponly_csrf_cookie(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal/")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{csrf.COOKIE_NAME}=")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie


async def test_unknown_portal_page_is_an_html_page_in_chinese(client: httpx.AsyncClient) -> None:
    response = await client.get("/portal/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text
    assert response.headers["x-request-id"] in response.text
    api = await client.get("/v1/no-such-route")
    assert api.headers["content-type"] == "application/problem+json"


async def test_static_assets_are_served_from_the_package(client: httpx.AsyncClient) -> None:
    for asset in ("portal.css", "portal.js", "emblem.svg"):
        response = await client.get(f"/portal/static/{asset}")
        assert response.status_code == 200, asset


def test_csrf_tokens_bind_to_the_cookie() -> None:
    secret = b"s" * 32
    scope = {"type": "http", "headers": [(b"cookie", b"csrf=" + b"v" * 40)], "state": {}}
    request = Request(scope)
    token = csrf.form_token(request, secret)
    assert csrf.is_valid(request, secret, token)
    assert not csrf.is_valid(request, secret, token[:-1] + "0")
    assert not csrf.is_valid(request, b"t" * 32, token)
    assert not csrf.is_valid(Request({"type": "http", "headers": [], "state": {}}), secret, token)


def test_money_and_time_formatting() -> None:
    from datetime import UTC, datetime

    assert yuan(123456) == "1,234.56"
    assert yuan(-5) == "-0.05"
    assert yuan(None) == "—"
    assert local_time(datetime(2025, 1, 1, 16, 30, tzinfo=UTC)) == "2025-01-02 00:30"


def test_every_portal_message_has_a_chinese_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    missing = sorted(str(m) for m in wanted if not catalogue.get(m))
    assert missing == [], "run scripts/update_translations.py and translate these"
