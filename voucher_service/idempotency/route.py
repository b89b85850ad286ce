"""``IdempotentRoute``: the route class through which mutating routes honour ``Idempotency-Key``.

    router = APIRouter(prefix="/v1/provider", route_class=RedemptionIdempotentRoute)

Every POST/PUT/PATCH/DELETE route of such a router gets one more dependency, solved after the
route's own parameters (so after authentication, authorisation and object loading): it claims the
caller's key in the request's unit of work (``SessionDep``). The route class then keeps the answer
with the claim before the unit of work commits, so a change and its record commit together.
A refusal (a 4xx problem other than 401/403/429) rolls the change back and is kept on its own, so
a retry gets the same refusal; a 5xx keeps nothing, and the retry runs again.
"""

import inspect
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from voucher_service.auth.dependencies import CurrentPrincipal
from voucher_service.auth.principal import Principal
from voucher_service.dependencies import SessionDep, get_settings
from voucher_service.idempotency import service
from voucher_service.idempotency.errors import IdempotencyKeyInvalid, IdempotencyKeyMissing
from voucher_service.kit.problems import render_known

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Statuses that are about the caller's credentials or pace, not the request: never kept.
NOT_KEPT = frozenset({401, 403, 429})
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEY_DESCRIPTION = "A key naming this request for ever: a retry with it gets the same answer."
_PARAMETER = "idempotency_claim__"
_STATE = "idempotency_claim"


@dataclass(frozen=True)
class Claim:
    """A key taken for this request: where to keep the answer."""

    session: AsyncSession
    record_id: Any
    attempt: service.Attempt


def caller_of(principal: Principal) -> str:
    """Whose keys these are: a person's own, or (API clients) their organisation's."""
    return f"user:{principal.id}" if principal.is_user else f"org:{principal.organisation_id}"


class IdempotentRoute(APIRoute):
    """A route whose mutating methods honour ``Idempotency-Key`` (optional)."""

    #: Whether a mutating request without a key is refused (``idempotency_key_missing``).
    key_required: ClassVar[bool] = False
    #: The setting (hours; ``None`` = for ever) saying how long this class keeps its records.
    retention_setting: ClassVar[str] = "idempotency_retention_hours"

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        if methods & MUTATING:
            endpoint = self._with_claim(endpoint)
            if self.key_required:
                extra = kwargs.get("openapi_extra") or {}
                parameters = [*extra.get("parameters", []), _required_key_parameter()]
                kwargs["openapi_extra"] = {**extra, "parameters": parameters}
        super().__init__(path, endpoint, **kwargs)

    @classmethod
    def _with_claim(cls, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        """The endpoint with one more parameter, last, whose dependency claims the key."""

        @wraps(endpoint)
        async def claimed(*args: Any, **kwargs: Any) -> Any:
            kwargs.pop(_PARAMETER, None)
            return await endpoint(*args, **kwargs)

        signature = inspect.signature(endpoint)
        extra = inspect.Parameter(
            _PARAMETER,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Claim | None, Depends(cls._claim_dependency())],
        )
        parameters = [*signature.parameters.values(), extra]
        claimed.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return claimed

    @classmethod
    def _claim_dependency(cls) -> Callable[..., Coroutine[Any, Any, Claim | None]]:
        required, retention_setting = cls.key_required, cls.retention_setting

        async def claim_key(
            request: Request,
            principal: CurrentPrincipal,
            session: SessionDep,
            # Optional here so that a missing key is our 400 problem, not a validation error;
            # where it is required, the OpenAPI says so (``_required_key_parameter``).
            key: Annotated[
                str | None,
                Header(
                    alias="Idempotency-Key",
                    description=KEY_DESCRIPTION,
                    include_in_schema=not required,
                ),
            ] = None,
        ) -> Claim | None:
            if key is None:
                if required:
                    raise IdempotencyKeyMissing(
                        "Send an Idempotency-Key header (a UUID, say) with this request.",
                        detail_zh="请在请求中携带 Idempotency-Key 请求头（例如一个 UUID）。",
                    )
                return None
            if not KEY_PATTERN.fullmatch(key):
                raise IdempotencyKeyInvalid(
                    "An Idempotency-Key is 1 to 255 visible ASCII characters.",
                    detail_zh="Idempotency-Key 须为 1 至 255 个可见 ASCII 字符。",
                )
            settings = get_settings(request)
            hours = getattr(settings, retention_setting)
            attempt = service.Attempt(
                caller=caller_of(principal),
                key=key,
                fingerprint=service.fingerprint(
                    request.method,
                    request.url.path,
                    request.query_params.multi_items(),
                    request.headers.get("content-type"),
                    await request.body(),
                ),
                method=request.method,
                path=request.url.path,
                expires_at=service.expiry(None if hours is None else timedelta(hours=hours)),
            )
            record_id = await service.claim(
                session, attempt, wait_seconds=settings.idempotency_wait_seconds
            )
            found = Claim(session, record_id, attempt)
            setattr(request.state, _STATE, found)
            return found

        return claim_key

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if "idempotency-key" in request.headers:
                # Keep the body: the key's fingerprint reads it after FastAPI has parsed a form,
                # which would otherwise have consumed the stream (multipart uploads).
                await request.body()
            try:
                response = await handler(request)
            except service.Replay as replay:
                return replay.answer.replay()
            except Exception as exc:
                refusal = await _keep_refusal(request, exc)
                if refusal is None:
                    raise
                return refusal
            claim: Claim | None = getattr(request.state, _STATE, None)
            if claim is not None:
                await service.complete(
                    claim.session, claim.record_id, service.StoredAnswer.of(response)
                )
            return response

        return handle


def _required_key_parameter() -> dict[str, Any]:
    """The ``Idempotency-Key`` header as the OpenAPI of a key-required route declares it."""
    return {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": "Required. " + KEY_DESCRIPTION,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    }


async def _keep_refusal(request: Request, exc: Exception) -> Response | None:
    """Roll the request's changes back and keep its refusal with the key; None if not kept."""
    claim: Claim | None = getattr(request.state, _STATE, None)
    if claim is None:
        return None
    response = render_known(request, exc)
    if response is None or not 400 <= response.status_code < 500:
        return None
    if response.status_code in NOT_KEPT:
        return None
    await claim.session.rollback()
    await service.store(claim.session, claim.attempt, service.StoredAnswer.of(response))
    return response


def idempotent_route(
    *, key_required: bool, retention_setting: str = "idempotency_retention_hours"
) -> type[IdempotentRoute]:
    """A route class with its own key rule and retention (a setting's name, in hours)."""
    return type(
        "IdempotentRoute",
        (IdempotentRoute,),
        {"key_required": key_required, "retention_setting": retention_setting},
    )


#: Provider redemption calls: the key is required and kept for ever by default.
RedemptionIdempotentRoute = idempotent_route(
    key_required=True, retention_setting="idempotency_redemption_retention_hours"
)
