"""The scopes a provider API client can hold; an access token carries a subset of them."""

from __future__ import annotations

from collections.abc import Iterable

from providers.clients.errors import InvalidScope

PROVIDER_SCOPES: dict[str, str] = {
    "vouchers:read": "look up vouchers this provider may redeem",
    "redemptions:read": "list and read this provider's redemptions",
    "redemptions:write": "authorise, capture, void and refund redemptions",
    "settlements:read": "list and read this provider's settlements",
    "settlements:write": "confirm or dispute settlements and upload statements",
    "webhooks:manage": "configure the webhook endpoint",
}


def parse_scopes(value: str | Iterable[str] | None, *, default: Iterable[str]) -> frozenset[str]:
    """Scopes from a space-separated string or a list; ``default`` when none are given."""
    if value is None:
        return frozenset(default)
    items = value.split() if isinstance(value, str) else list(value)
    if not items:
        return frozenset(default)
    unknown = sorted(set(items) - PROVIDER_SCOPES.keys())
    if unknown:
        raise InvalidScope(f"Unknown scope(s): {', '.join(unknown)}.")
    return frozenset(items)


def narrow(requested: str | None, granted: frozenset[str]) -> frozenset[str]:
    """The scopes a token request asks for, which must all have been granted to the client."""
    wanted = parse_scopes(requested, default=granted)
    missing = sorted(wanted - granted)
    if missing:
        raise InvalidScope(f"Scope(s) not granted to this client: {', '.join(missing)}.")
    return wanted


def format_scopes(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))
