"""Who may call a route, as predicates over (actor, organisation owning the target object)."""

from __future__ import annotations

from collections.abc import Callable

from tests.authz.world import Actor
from voucher_service.organisations.models import Organisation
from voucher_service.users.models import Role

Rule = Callable[[Actor, Organisation | None], bool]


def anyone(_actor: Actor, _owner: Organisation | None) -> bool:
    """Public: no authentication needed (a token, if sent, changes nothing)."""
    return True


def any_user(actor: Actor, _owner: Organisation | None) -> bool:
    """Any logged-in person, whatever the role; not API clients."""
    return actor.is_user


def any_principal(actor: Actor, _owner: Organisation | None) -> bool:
    """Any authenticated caller: a person or an API client."""
    return not actor.anonymous


def provider_client(actor: Actor, _owner: Organisation | None) -> bool:
    """A provider's API client."""
    return actor.is_client


def roles(*allowed: Role) -> Rule:
    """A user holding one of ``allowed``, acting by function (any organisation's object)."""

    def rule(actor: Actor, _owner: Organisation | None) -> bool:
        return actor.role in allowed

    rule.__name__ = "roles(" + ",".join(allowed) + ")"
    return rule


def roles_on_own(*allowed: Role) -> Rule:
    """A user holding one of ``allowed``, on objects of its own organisation only."""

    def rule(actor: Actor, owner: Organisation | None) -> bool:
        return actor.role in allowed and owner is not None and actor.organisation == owner

    rule.__name__ = "roles_on_own(" + ",".join(allowed) + ")"
    return rule


def provider_manager(actor: Actor, _owner: Organisation | None) -> bool:
    """A provider's operator, or its API client (the cast's client holds every scope)."""
    return actor.role == Role.operator or actor.is_client


def provider_manager_on_own(actor: Actor, owner: Organisation | None) -> bool:
    """A provider's operator or API client, on objects of its own provider only."""
    return provider_manager(actor, owner) and owner is not None and actor.organisation == owner
