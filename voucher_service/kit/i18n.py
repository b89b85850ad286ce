"""Language negotiation: Simplified Chinese or English."""

from __future__ import annotations

from typing import Literal

from starlette.requests import HTTPConnection

Language = Literal["zh", "en"]


def parse_accept_language(header: str | None, default: Language = "en") -> Language:
    """Pick ``zh`` or ``en`` from an Accept-Language header by quality, first listed on ties."""
    best: tuple[float, Language] | None = None
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language: Language | None = (
            "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        )
        if language and quality > 0 and (best is None or quality > best[0]):
            best = (quality, language)
    return best[1] if best else default


def preferred_language(connection: HTTPConnection) -> Language:
    """The language to answer ``connection`` in: a ``lang`` cookie, else Accept-Language."""
    cookie = connection.cookies.get("lang")
    if cookie in ("zh", "en"):
        return cookie  # type: ignore[return-value]
    return parse_accept_language(connection.headers.get("accept-language"))
