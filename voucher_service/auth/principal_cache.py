"""A short, bounded cache of the API clients behind verified access tokens.

Loading a principal costs a signature check and a database transaction per request. For provider
API clients (the hot path) the loaded principal is kept for ``principal_cache_seconds`` (default
2 s; 0 switches the cache off) under the SHA-256 of the token, never past the token's ``exp``.
Revocation and suspension still stop a token promptly:

* in this process at once: committing a change to an ``api_client`` or ``organisation`` row
  (revoking a client, rotating it, suspending an organisation) empties every cache;
* in other API replicas within ``principal_cache_seconds``, when their entry runs out.

Users' tokens are not cached (their sessions end at logout and are checked on every request).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from providers.clients.models import ApiClient
from voucher_service.auth.principal import Principal
from voucher_service.organisations.models import Organisation

#: At most this many tokens are kept; past it the oldest entries go first.
MAX_ENTRIES = 10_000
_WATCHED = (ApiClient, Organisation)
_generation = itertools.count()
_current = [next(_generation)]


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    until: float  # time.monotonic()
    expires_at: datetime  # the token's exp
    generation: int


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class PrincipalCache:
    """Token digest → API client principal, for at most ``seconds`` each."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[bytes, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, now: datetime) -> Principal | None:
        key = _digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        fresh = entry.generation == _current[0] and time.monotonic() < entry.until
        if fresh and now < entry.expires_at:
            return entry.principal
        del self._entries[key]
        return None

    def put(self, token: str, principal: Principal, expires_at: datetime) -> None:
        if self.seconds <= 0 or not principal.is_client:
            return
        while len(self._entries) >= MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        until = time.monotonic() + self.seconds
        self._entries[_digest(token)] = _Entry(principal, until, expires_at, _current[0])


def invalidate_all() -> None:
    """Make every cached principal in this process stale (the next request loads it again)."""
    _current[0] = next(_generation)


def cache_for(state: Any, seconds: float) -> PrincipalCache:
    """The process's cache kept on ``state`` (the application's), made on first use."""
    cache: PrincipalCache | None = getattr(state, "principal_cache", None)
    if cache is None or cache.seconds != seconds:
        cache = state.principal_cache = PrincipalCache(seconds)
    return cache


@event.listens_for(Session, "after_flush")
def _note_watched_changes(session: Session, _context: Any) -> None:
    changed = itertools.chain(session.dirty, session.deleted)
    if any(isinstance(instance, _WATCHED) for instance in changed):
        session.info["principal_cache_stale"] = True
        invalidate_all()  # at once too: a request of this process must not keep the old state


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session: Session) -> None:
    # Again after the commit: a request that loaded the old row meanwhile may have cached it.
    if session.info.pop("principal_cache_stale", False):
        invalidate_all()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("principal_cache_stale", None)
