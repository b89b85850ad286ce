"""Which domain handles which callback type: a small registry filled at import time.

A domain registers a handler for each type it consumes, with the schema of ``data`` and the scope
the sender's access token must hold::

    from providers.callbacks import ReceivedCallback, callbacks

    class SettlementConfirmation(BaseModel):
        model_config = ConfigDict(extra="forbid")
        settlement_id: uuid.UUID

    @callbacks.handler("settlement.confirmed", data=SettlementConfirmation,
                       scope="settlements:write")
    async def confirm(session: AsyncSession,
                      callback: ReceivedCallback[SettlementConfirmation]) -> dict[str, Any]:
        ...  # change state in ``session`` (flush, never commit)
        return {"settlement_id": str(callback.data.settlement_id), "status": "confirmed"}

The handler runs in the request's unit of work, after the callback has been verified, found fresh
and stored for the first time; what it returns (a JSON object) is stored with the callback and
answered to every retry of it. If it raises, everything rolls back, the callback included, so a
retry is handled afresh.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from providers.callbacks.envelope import MAX_TYPE_LENGTH, TYPE_PATTERN
from providers.callbacks.errors import (
    CallbackDataInvalid,
    CallbackScopeMissing,
    CallbackTypeUnknown,
)
from providers.clients.scopes import PROVIDER_SCOPES

DataT = TypeVar("DataT", bound=BaseModel)


@dataclass(frozen=True)
class ReceivedCallback(Generic[DataT]):
    """A verified, fresh callback seen for the first time, as its handler gets it."""

    receipt_id: uuid.UUID
    provider_id: uuid.UUID
    api_client_id: uuid.UUID
    callback_id: str
    type: str
    sent_at: datetime
    key_id: str
    data: DataT


Handler = Callable[[AsyncSession, ReceivedCallback[DataT]], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Registration(Generic[DataT]):
    """One callback type: its data schema, the scope it needs, and its handler."""

    callback_type: str
    data_model: type[DataT]
    handler: Handler[DataT]
    scope: str | None

    def check_scope(self, scopes: Collection[str]) -> None:
        """Refuse a sender whose token lacks this type's scope."""
        if self.scope is not None and self.scope not in scopes:
            raise CallbackScopeMissing(f"{self.callback_type} needs the {self.scope} scope.")

    def parse(self, data: Mapping[str, Any]) -> DataT:
        """``data`` validated against this type's schema."""
        try:
            return self.data_model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
            )
            raise CallbackDataInvalid(f"{self.callback_type}: {problems}") from exc


class CallbackRegistry:
    """Callback types and their handlers."""

    def __init__(self) -> None:
        self._registrations: dict[str, Registration[Any]] = {}

    def register(
        self,
        callback_type: str,
        *,
        data: type[DataT],
        handler: Handler[DataT],
        scope: str | None,
    ) -> Registration[DataT]:
        """Register ``handler`` for ``callback_type``; a type has exactly one handler."""
        if len(callback_type) > MAX_TYPE_LENGTH or not re.fullmatch(TYPE_PATTERN, callback_type):
            raise ValueError(f"{callback_type!r} is not a callback type like 'statement.submitted'")
        if callback_type in self._registrations:
            raise ValueError(f"{callback_type} already has a handler")
        if scope is not None and scope not in PROVIDER_SCOPES:
            raise ValueError(f"unknown scope {scope!r}; one of {sorted(PROVIDER_SCOPES)}")
        registration = Registration(callback_type, data, handler, scope)
        self._registrations[callback_type] = registration
        return registration

    def handler(
        self, callback_type: str, *, data: type[DataT], scope: str | None
    ) -> Callable[[Handler[DataT]], Handler[DataT]]:
        """Decorator form of :meth:`register`."""

        def decorate(function: Handler[DataT]) -> Handler[DataT]:
            self.register(callback_type, data=data, handler=function, scope=scope)
            return function

        return decorate

    def unregister(self, callback_type: str) -> None:
        """Forget a type (tests register throw-away handlers)."""
        self._registrations.pop(callback_type, None)

    def get(self, callback_type: str) -> Registration[Any]:
        """The registration of ``callback_type``, or CallbackTypeUnknown."""
        registration = self._registrations.get(callback_type)
        if registration is None:
            known = ", ".join(sorted(self._registrations)) or "none yet"
            raise CallbackTypeUnknown(f"No handler for {callback_type!r}; known types: {known}.")
        return registration

    def registrations(self) -> list[Registration[Any]]:
        """Every registration, by type."""
        return [self._registrations[name] for name in sorted(self._registrations)]


#: The application's registry: domains register their handlers here at import time.
callbacks = CallbackRegistry()
