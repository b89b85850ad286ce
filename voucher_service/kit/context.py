"""Per-request context: request id and client address, for handlers, logs and the audit trail."""

from __future__ import annotations

import re
from contextvars import ContextVar

from starlette.requests import HTTPConnection

from ledger.sqltypes import new_id

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
#: The client's address as the server saw it (behind a trusted proxy, uvicorn's
#: ``proxy_headers`` has already replaced it with the forwarded one).
current_client_address: ContextVar[str | None] = ContextVar("current_client_address", default=None)

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_request_id(incoming: str | None) -> str:
    """Keep a well-formed incoming ``X-Request-ID`` (set by a proxy), otherwise make one."""
    if incoming and _ACCEPTABLE_ID.match(incoming):
        return incoming
    return str(new_id())


def request_id_of(connection: HTTPConnection) -> str | None:
    """The id the request context middleware gave this request."""
    state = connection.scope.get("state") or {}
    return state.get("request_id")
