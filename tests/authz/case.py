"""What one row of the authorisation matrix says (see ``matrix.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.authz import rules
from tests.authz.world import Actor, World
from voucher_service.organisations.models import Organisation, OrganisationKind

#: Makes the object of one attempt: returns path parameters (and may stash state in the world).
TargetFactory = Callable[[World, Organisation, Actor], Awaitable[dict[str, str]]]
Payload = Callable[[World, Actor], Awaitable[dict[str, Any] | None]]
#: Prepares what the actor's own organisation needs before its attempt (an endpoint, say).
Arrange = Callable[[World, Actor], Awaitable[None]]


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    allow: rules.Rule
    target: TargetFactory | None = None
    target_kinds: tuple[OrganisationKind, ...] = ()
    json: Payload | None = None
    form: Payload | None = None
    query: Payload | None = None
    arrange: Arrange | None = None
    headers: Payload | None = None  # request headers beside the actor's (an Idempotency-Key)
    ok: frozenset[int] = field(default_factory=lambda: frozenset({200, 201, 204}))
    params: dict[str, str] = field(default_factory=dict)  # path parameters when no target
    asset: str = "swagger-ui.css"  # what to fetch under a MOUNT
    portal: bool = False  # tried as a browser: session cookie, CSRF token (portal_cases.py)

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def constant(value: dict[str, Any] | None) -> Payload:
    async def payload(_world: World, _actor: Actor) -> dict[str, Any] | None:
        return value

    return payload
