"""Problems of the provider redemption API: each refusal has its own code; none moves money."""

from __future__ import annotations

from voucher_service.kit.problems import ProblemError


class RedemptionNotFound(ProblemError):
    status = 404
    code = "not_found"
    title = "Not found"
    title_zh = "未找到"


class VoucherNotFound(ProblemError):
    """No voucher with this code that this provider may redeem (unknown or not bound: alike)."""

    status = 404
    code = "voucher_not_found"
    title = "No such voucher for this provider"
    title_zh = "未找到本服务商可核销的该券"


class VoucherNotRedeemable(ProblemError):
    """The voucher exists and is bound to the provider, but cannot be redeemed now."""

    status = 422
    code = "voucher_not_redeemable"
    title = "The voucher cannot be redeemed"
    title_zh = "该券当前不可核销"


def not_redeemable(code: str) -> VoucherNotRedeemable:
    """The refusal for a ``redeemability`` code (``voucher_frozen``, ``voucher_wrong_kind``...)."""
    texts = {
        "voucher_frozen": ("The voucher is frozen.", "该券已被冻结。"),
        "voucher_exhausted": ("Nothing is left on the voucher.", "该券余额已用尽。"),
        "voucher_expired": ("The voucher has expired.", "该券已过期。"),
        "voucher_revoked": ("The voucher was revoked.", "该券已被撤销。"),
        "voucher_not_yet_valid": ("The voucher is not valid yet.", "该券尚未生效。"),
        "voucher_wrong_kind": (
            "The voucher is of a kind this provider does not sell.",
            "该券类型与本服务商提供的服务不符。",
        ),
        "voucher_not_redeemable": (
            "The voucher's programme does not redeem at the point of sale.",
            "该券所属项目不支持服务商直接核销。",
        ),
    }
    detail, detail_zh = texts.get(code, texts["voucher_not_redeemable"])
    problem = VoucherNotRedeemable(detail, detail_zh=detail_zh)
    problem.code = code  # type: ignore[misc]
    return problem


class ProviderNotRedeemable(ProblemError):
    """The provider itself may not redeem (suspended, or not approved)."""

    status = 403
    code = "provider_suspended"
    title = "The provider may not redeem vouchers"
    title_zh = "服务商当前不可核销"


def provider_refused(code: str) -> ProviderNotRedeemable:
    if code == "provider_suspended":
        problem = ProviderNotRedeemable(
            "Your provider account is suspended: no voucher can be redeemed.",
            detail_zh="贵单位已被暂停，不能核销任何券。",
        )
    else:
        problem = ProviderNotRedeemable(
            "Your provider is not approved for vouchers.", detail_zh="贵单位尚未获准核销券。"
        )
    problem.code = code  # type: ignore[misc]
    return problem


class InsufficientBalance(ProblemError):
    status = 422
    code = "insufficient_balance"
    title = "Insufficient balance"
    title_zh = "余额不足"


class UnitPriceOverCeiling(ProblemError):
    status = 422
    code = "unit_price_over_ceiling"
    title = "The unit price is over the programme's ceiling"
    title_zh = "单价超过项目规定的最高限价"


class DuplicateOrderId(ProblemError):
    status = 409
    code = "duplicate_order_id"
    title = "This order was already redeemed"
    title_zh = "该订单已核销过"


class RedemptionStateConflict(ProblemError):
    """The redemption is not in a state that allows this (a voided hold cannot be captured...)."""

    status = 409
    code = "redemption_not_authorized"
    title = "The redemption is not an open authorisation"
    title_zh = "该核销不是有效的预授权"


class HoldExpired(ProblemError):
    status = 409
    code = "hold_expired"
    title = "The authorisation has expired"
    title_zh = "预授权已过期"


class CaptureExceedsHold(ProblemError):
    status = 422
    code = "amount_exceeds_hold"
    title = "The amount is more than was authorised"
    title_zh = "金额超过预授权金额"


class RefundNotAllowed(ProblemError):
    status = 409
    code = "refund_not_allowed"
    title = "This redemption cannot be refunded"
    title_zh = "该核销不可退款"


class RefundExceedsCaptured(ProblemError):
    status = 422
    code = "refund_exceeds_captured"
    title = "The refund is more than is left to refund"
    title_zh = "退款金额超过可退金额"


class InvalidAmount(ProblemError):
    status = 422
    code = "invalid_amount"
    title = "The amount must be a positive number of fen"
    title_zh = "金额须为正整数（分）"


class AmountTooLarge(ProblemError):
    status = 422
    code = "amount_too_large"
    title = "The amount is larger than any bill this service accepts"
    title_zh = "金额超出允许的上限"


class UnsupportedCurrency(ProblemError):
    status = 422
    code = "unsupported_currency"
    title = "Only CNY is accepted"
    title_zh = "仅支持人民币（CNY）"


class NothingToCover(ProblemError):
    status = 422
    code = "nothing_to_cover"
    title = "The voucher's share of this bill rounds down to nothing"
    title_zh = "按券的比例计算，本账单可抵扣金额为零"
