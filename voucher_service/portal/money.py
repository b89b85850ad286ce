"""Amounts as people type and read them: yuan with up to two decimals, kept as integer fen."""

from __future__ import annotations

import re

from voucher_service.kit.i18n import Language
from voucher_service.portal.i18n import N_, translate

_YUAN = re.compile(r"^(?P<whole>\d{1,13})(?:\.(?P<fen>\d{1,2}))?$")
BAD_AMOUNT = N_("Enter an amount in yuan, like 200000 or 1234.50.")


def parse_yuan(raw: str) -> int | None:
    """Fen from ``raw`` yuan ("200,000.5" → 20000050); None if it is not an amount.

    Thousands separators (ASCII or full-width commas) and spaces are ignored; more than two
    decimals is refused rather than rounded (an amount is never changed behind someone's back).
    """
    text = re.sub(r"[\s,，]", "", raw).replace("．", ".")
    match = _YUAN.match(text)
    if match is None:
        return None
    fen = (match["fen"] or "").ljust(2, "0")
    return int(match["whole"]) * 100 + int(fen)


def fen_field(
    values: dict[str, object], errors: dict[str, str], name: str, language: Language
) -> int | None:
    """The amount typed into form field ``name``, in fen; an error on the field if it is not one."""
    raw = str(values.get(name) or "")
    if not raw:
        return None
    amount = parse_yuan(raw)
    if amount is None:
        errors[name] = translate(language, BAD_AMOUNT)
    return amount


def as_yuan_input(amount: int | None) -> str:
    """Fen as the text of an amount field (no separators): 20000050 → "200000.50"."""
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d}"


def percent(rate_bp: int) -> str:
    """Basis points as a percentage: 3000 → "30%", 1250 → "12.5%"."""
    whole, rest = divmod(rate_bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"
