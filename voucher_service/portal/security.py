"""Security headers for portal pages: a strict content security policy and friends."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PORTAL_PREFIX = "/portal"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class PortalSecurityHeadersMiddleware:
    """Adds the headers above to every response under /portal (the API has its own needs), and
    ``Server-Timing: app;dur=<ms>`` (the time the page took on the server, as browsers show)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PORTAL_PREFIX):
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                elapsed = (time.perf_counter() - started) * 1000
                headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if "cache-control" not in headers and not scope["path"].startswith(
                    f"{PORTAL_PREFIX}/static"
                ):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
