"""What the SDK raises.

``VoucherError`` is the base of everything. A refusal by the service is a ``ProblemError`` built
from its RFC 9457 problem document; the class is chosen by the problem's stable ``code``
(``InsufficientBalance`` for ``insufficient_balance``), or by the HTTP status when the code is
one this version of the SDK does not know, so ``except ProblemError`` always works and a newer
server never breaks an older SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

_BY_CODE: dict[str, type[ProblemError]] = {}
_STANDARD = frozenset({"type", "title", "status", "detail", "code", "instance"})


class VoucherError(Exception):
    """Base of every error the SDK raises."""


class TransportFailure(VoucherError):
    """The service could not be reached (every attempt failed at the network level)."""


class ReceiptInvalid(VoucherError):
    """A receipt that does not verify against the service's published keys."""


class WebhookVerificationError(VoucherError):
    """A webhook whose signature or timestamp does not check out: do not act on it."""


class ProblemError(VoucherError):
    """A problem response from the service (``application/problem+json``)."""

    code: ClassVar[str | None] = None

    def __init__(self, status: int, problem: Mapping[str, Any], headers: Mapping[str, str]):
        self.status = status
        self.problem = dict(problem)
        self.problem_code: str = str(problem.get("code") or self.code or f"http_{status}")
        self.title: str = str(problem.get("title") or "")
        self.detail: str | None = problem.get("detail")
        self.request_id: str | None = problem.get("request_id") or headers.get("x-request-id")
        self.extensions = {k: v for k, v in problem.items() if k not in _STANDARD}
        self.retry_after = headers.get("retry-after")
        super().__init__(f"{status} {self.problem_code}: {self.detail or self.title}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code is not None:
            _BY_CODE[cls.code] = cls


# By status, for codes this SDK does not name.
class BadRequest(ProblemError):
    """400 or 422: the request is wrong; sending it again will not help."""


class AuthenticationFailed(ProblemError):
    """401: the credentials or the token were refused."""


class PermissionDenied(ProblemError):
    """403: authenticated, but not allowed (missing scope, suspended provider)."""


class NotFound(ProblemError):
    """404: missing, or not yours (the service does not tell the difference)."""


class Conflict(ProblemError):
    """409: the object's state does not allow this now."""


class RateLimited(ProblemError):
    """429: too many requests; ``retry_after`` says when to try again."""


class ServerError(ProblemError):
    """5xx: the service failed; the SDK has already retried."""


# By code: the ones an integration usually handles on purpose.
class ValidationFailed(BadRequest):
    code = "validation_error"


class InvalidClient(AuthenticationFailed):
    code = "invalid_client"


class InvalidToken(AuthenticationFailed):
    code = "invalid_token"


class InvalidScope(PermissionDenied):
    code = "invalid_scope"


class AccountSuspended(PermissionDenied):
    code = "account_suspended"


class VoucherNotFound(NotFound):
    """No voucher with this code that this provider may redeem (unknown and foreign alike)."""

    code = "voucher_not_found"


class IdempotencyKeyMissing(BadRequest):
    code = "idempotency_key_missing"


class IdempotencyKeyReused(BadRequest):
    """The same ``Idempotency-Key`` was sent before with a different request."""

    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(Conflict):
    """The first request with this key is still running (the SDK waits and retries)."""

    code = "idempotency_request_in_progress"


class ProviderSuspended(PermissionDenied):
    """This provider may not redeem now (suspended or not approved)."""

    code = "provider_suspended"


class InvalidAmount(BadRequest):
    code = "invalid_amount"


class AmountTooLarge(BadRequest):
    code = "amount_too_large"


class UnsupportedCurrency(BadRequest):
    code = "unsupported_currency"


class ProviderNotApproved(PermissionDenied):
    code = "provider_not_approved"


class CallbackRefused(BadRequest):
    """An inbound callback the service did not accept (signature, timestamp, data)."""

    code = "callback_invalid"


class RedemptionRefused(ProblemError):
    """A business refusal of the redemption API; no money moved. Catch this for all of them."""


class InsufficientBalance(RedemptionRefused):
    """The voucher (or a cap) covers less than the full share and ``allow_partial`` was false."""

    code = "insufficient_balance"


class NothingToCover(RedemptionRefused):
    """The voucher would cover nothing of this bill (an empty balance with ``allow_partial``)."""

    code = "nothing_to_cover"


class VoucherNotRedeemable(RedemptionRefused):
    """The voucher exists for this provider but cannot be redeemed now; the subclasses say why."""

    code = "voucher_not_redeemable"


class VoucherFrozen(VoucherNotRedeemable):
    code = "voucher_frozen"


class VoucherExhausted(VoucherNotRedeemable):
    code = "voucher_exhausted"


class VoucherExpired(VoucherNotRedeemable):
    code = "voucher_expired"


class VoucherRevoked(VoucherNotRedeemable):
    code = "voucher_revoked"


class VoucherNotYetValid(VoucherNotRedeemable):
    code = "voucher_not_yet_valid"


class VoucherWrongKind(VoucherNotRedeemable):
    code = "voucher_wrong_kind"


class UnitPriceOverCeiling(RedemptionRefused):
    code = "unit_price_over_ceiling"


class DuplicateOrderId(RedemptionRefused):
    """This ``order_id`` was already redeemed with another idempotency key."""

    code = "duplicate_order_id"


class RedemptionNotAuthorized(RedemptionRefused):
    """Capture or void of a redemption that is no longer a hold (captured, voided, expired)."""

    code = "redemption_not_authorized"


class RedemptionCaptured(RedemptionNotAuthorized):
    code = "redemption_captured"


class RedemptionVoided(RedemptionNotAuthorized):
    code = "redemption_voided"


class RedemptionExpired(RedemptionNotAuthorized):
    code = "redemption_expired"


class HoldExpired(RedemptionRefused):
    code = "hold_expired"


class AmountExceedsHold(RedemptionRefused):
    code = "amount_exceeds_hold"


class RefundNotAllowed(RedemptionRefused):
    code = "refund_not_allowed"


class RefundExceedsCaptured(RedemptionRefused):
    code = "refund_exceeds_captured"


def _by_status(status: int) -> type[ProblemError]:
    if status in (400, 422):
        return BadRequest
    fixed = {401: AuthenticationFailed, 403: PermissionDenied, 404: NotFound, 409: Conflict}
    if status in fixed:
        return fixed[status]
    if status == 429:
        return RateLimited
    return ServerError if status >= 500 else ProblemError


def problem_error(
    status: int, problem: Mapping[str, Any], headers: Mapping[str, str]
) -> ProblemError:
    """The most specific ``ProblemError`` for a problem document."""
    cls = _BY_CODE.get(str(problem.get("code")), _by_status(status))
    return cls(status, problem, headers)


def error_class(code: str) -> type[ProblemError] | None:
    """The class raised for a problem ``code``, if this SDK names it."""
    return _BY_CODE.get(code)
