"""Flash messages: what a POST tells the page it redirects to (POST/redirect/GET).

The message travels in a short-lived cookie, encrypted and authenticated (Fernet, with a key
derived from the server secret), so it can also carry a secret that must be shown exactly once
(a new client secret, an invitation link) without it ever being stored on the server: the page
that shows it deletes the cookie, and a reload shows nothing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken
from starlette.requests import Request
from starlette.responses import Response

from voucher_service.keys.secret import derive_key

COOKIE_NAME = "flash"
COOKIE_PATH = "/portal"
LIFETIME_SECONDS = 300

Kind = Literal["ok", "warn", "bad", "info"]


@dataclass(frozen=True)
class Secret:
    """A value shown once, with what it is (a catalogue message) and how to keep it."""

    label: str
    value: str
    hint: str


@dataclass(frozen=True)
class Flash:
    """A message (a catalogue message with ``%(name)s`` parameters) for the next page."""

    message: str
    kind: Kind = "ok"
    params: dict[str, str] = field(default_factory=dict)
    secret: Secret | None = None
    literal: bool = False  # already in the visitor's language (a refusal's own words)


def box_for(server_secret: bytes) -> Fernet:
    """The cipher of flash cookies, from the server secret (shared by every replica)."""
    return Fernet(base64.urlsafe_b64encode(derive_key(server_secret, "portal-flash")))


def _box(request: Request) -> Fernet:
    return request.app.state.flash_box  # type: ignore[no-any-return]


def send(request: Request, response: Response, flash: Flash) -> None:
    """Attach ``flash`` to ``response`` (a redirect) for the page it leads to."""
    body = {
        "message": flash.message,
        "kind": flash.kind,
        "params": flash.params,
        "secret": vars(flash.secret) if flash.secret else None,
        "literal": flash.literal,
    }
    token = _box(request).encrypt(json.dumps(body).encode()).decode()
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=True,
        path=COOKIE_PATH,
    )


def take(request: Request) -> Flash | None:
    """The flash sent to this request, if any (and still fresh); the caller deletes the cookie."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        body = json.loads(_box(request).decrypt(token.encode(), ttl=LIFETIME_SECONDS))
    except (InvalidToken, ValueError):
        return None
    secret = body.get("secret")
    return Flash(
        message=str(body["message"]),
        kind=body.get("kind", "ok"),
        params={str(k): str(v) for k, v in (body.get("params") or {}).items()},
        secret=Secret(**secret) if secret else None,
        literal=bool(body.get("literal")),
    )


def clear(response: Response) -> None:
    """Delete the flash cookie (it has been shown)."""
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=True, httponly=True)
