"""Checks of a provider's input that need no voucher: amounts, currency, unit price ceilings."""

from __future__ import annotations

from voucher_service.redemptions.errors import (
    AmountTooLarge,
    InvalidAmount,
    UnitPriceOverCeiling,
    UnsupportedCurrency,
)
from voucher_service.redemptions.schemas import Usage

CURRENCY = "CNY"
#: The largest amount accepted anywhere in the provider API: 10 billion yuan, in fen.
MAX_AMOUNT = 10**12


def check_amount(amount: int, field: str) -> None:
    """A positive number of fen, not absurdly large (``invalid_amount``, ``amount_too_large``)."""
    if amount <= 0:
        raise InvalidAmount(
            f"{field} must be a positive number of fen, not {amount}.",
            detail_zh=f"{field} 须为正整数（分），当前为 {amount}。",
            field=field,
        )
    if amount > MAX_AMOUNT:
        raise AmountTooLarge(
            f"{field} may be at most {MAX_AMOUNT} fen.",
            detail_zh=f"{field} 最多为 {MAX_AMOUNT} 分。",
            field=field,
            max_amount=MAX_AMOUNT,
        )


def check_currency(currency: str) -> None:
    if currency != CURRENCY:
        raise UnsupportedCurrency(
            f"Currency {currency!r} is not accepted; amounts are in CNY fen.",
            detail_zh=f"不支持币种 {currency!r}，金额须以人民币分计。",
        )


def check_usage_amounts(usage: Usage) -> None:
    if usage.unit_price < 0:
        raise InvalidAmount(
            "usage.unit_price cannot be negative.",
            detail_zh="usage.unit_price 不能为负数。",
            field="usage.unit_price",
        )
    if usage.unit_price > MAX_AMOUNT:
        check_amount(usage.unit_price, "usage.unit_price")


def check_ceiling(max_unit_price: int | None, usage: Usage) -> None:
    """The unit price may not exceed the programme's ceiling for this resource and unit."""
    if max_unit_price is not None and usage.unit_price > max_unit_price:
        raise UnitPriceOverCeiling(
            f"{usage.unit_price} fen per {usage.unit} of {usage.resource} is over the programme's "
            f"ceiling of {max_unit_price} fen.",
            detail_zh=f"{usage.resource} 单价 {usage.unit_price} 分/{usage.unit} 超过项目最高限价 "
            f"{max_unit_price} 分。",
            max_unit_price=max_unit_price,
        )
